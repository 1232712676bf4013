package survey_test

import (
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

func TestRedactPersonal(t *testing.T) {
	const x = survey.Redacted
	cases := []struct{ in, want string }{
		{"", ""},
		{"برخورد کارمند خیلی خوب بود", "برخورد کارمند خیلی خوب بود"},
		{"با من تماس بگیرید 09121234567", "با من تماس بگیرید " + x},
		{"شماره‌ام ۰۹۱۲۱۲۳۴۵۶۷ است", "شماره‌ام " + x + " است"},
		{"شماره‌ام ٠٩١٢١٢٣٤٥٦٧ است", "شماره‌ام " + x + " است"},
		{"۰۹۱۲ ۳۴۵ ۶۷۸۹ زنگ بزنید", x + " زنگ بزنید"},
		{"0912-345-6789", x},
		{"(0912) 345 67 89.", "(" + x + "."},
		{"+989121234567", x},
		{"+98 912 123 4567", x},
		{"00989121234567", x},
		{"989121234567", x},
		{"9121234567", x},
		{"۰۹۱۲۳۴۵۶۷۸۹ و ۰۹۳۵۱۱۱۲۲۳۳", x + " و " + x},
		{"کد ملی ۰۰۱۲۳۴۵۶۷۸", "کد ملی " + x},
		{"کد ملی 001-234567-8", "کد ملی " + x},
		{"national code:1234567890!", "national code:" + x + "!"},
		// Not personal numbers: too short, too long, dates, amounts, ratings.
		{"۱۲۳۴۵۶۷۸۹", "۱۲۳۴۵۶۷۸۹"},
		{"کد رهگیری 123456789012345", "کد رهگیری 123456789012345"},
		{"تاریخ ۱۴۰۴/۰۸/۲۴ ساعت ۱۰", "تاریخ ۱۴۰۴/۰۸/۲۴ ساعت ۱۰"},
		{"۵۰۰٬۰۰۰ تومان گرفتند", "۵۰۰٬۰۰۰ تومان گرفتند"},
		{"نمره ۵ از ۵", "نمره ۵ از ۵"},
		{"0912123456", x}, // ten digits: national-code shaped, redacted too
	}
	for _, c := range cases {
		if got := survey.RedactPersonal(c.in); got != c.want {
			t.Errorf("RedactPersonal(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
