package sms_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/channels/sms"
)

// parseCases are replies as citizens send them, with what Parse must make of them.
var parseCases = []struct {
	name, in string
	want     sms.Reply
}{
	// digits in three scripts
	{"ascii 5", "5", rating(5, "")},
	{"ascii 1", "1", rating(1, "")},
	{"persian 5", "۵", rating(5, "")},
	{"persian 3", "۳", rating(3, "")},
	{"arabic-indic 4", "٤", rating(4, "")},
	{"arabic-indic 2", "٢", rating(2, "")},
	{"full-width 3", "３", rating(3, "")},
	{"padded with spaces and newline", "  4 \n", rating(4, "")},
	{"rlm around digit", "\u200f۵\u200f", rating(5, "")},
	{"leading zero", "05", rating(5, "")},
	{"digit with dot", "5.", rating(5, "")},
	{"digit in brackets", "(۴)", rating(4, "")},
	{"same digit twice", "5 5", rating(5, "")},
	{"digit glued to persian word", "۵تا", rating(5, "تا")},
	// digits and text
	{"thanks colleagues", "۵ ممنون از همکاران", rating(5, "ممنون از همکاران")},
	{"4 but waited", "4 ولی معطل شدم", rating(4, "ولی معطل شدم")},
	{"comma after digit", "۵، برخورد کارمند عالی بود", rating(5, "برخورد کارمند")},
	{"digit at end", "کارها سریع انجام شد ۴", rating(4, "کارها سریع انجام شد")},
	{"digit beats negative word", "۴ ولی برخورد نگهبان بد بود", rating(4, "ولی برخورد نگهبان بد بود")},
	{"score word", "امتیاز ۳", rating(3, "")},
	{"stars word", "۴ ستاره", rating(4, "")},
	{"5/5", "5/5", rating(5, "")},
	{"persian 4/5", "۴/۵", rating(4, "")},
	{"5 az 5", "5 از 5", rating(5, "")},
	{"persian 3 az 5 with text", "۳ از ۵، صف طولانی بود", rating(3, "صف طولانی بود")},
	{"out of 5", "4 out of 5", rating(4, "")},
	{"from 5", "5 from 5", rating(5, "")},
	{"4 az 5 stars", "۴ از ۵ ستاره", rating(4, "")},
	{"out of 5 with score word", "نمره ۳/۵ میدم", rating(3, "میدم")},
	{"plus between digits", "۲+۳", ambiguous("")},
	{"five of five in words", "پنج از پنج", rating(5, "")},
	{"quantity hours", "۴ ولی ۲ ساعت معطل شدم", rating(4, "ولی ۲ ساعت معطل شدم")},
	{"only quantity", "۲ ساعت منتظر ماندم", none("۲ ساعت منتظر ماندم")},
	{"counter number", "باجه ۳ خیلی کند بود", none("باجه ۳ خیلی کند بود")},
	{"clock time", "ساعت ۱۰ رفتم، عالی بود", rating(5, "ساعت ۱۰ رفتم")},
	{"time with colon", "10:30 رسیدم", none("10:30 رسیدم")},
	{"phone number in text", "شماره من 09121234567 است", none("شماره من 09121234567 است")},
	{"spaced phone number and rating", "۵ - با ۰۹۱۲ ۱۲۳ ۴۵۶۷ تماس بگیرید", rating(5, "با ۰۹۱۲ ۱۲۳ ۴۵۶۷ تماس بگیرید")},
	{"tracking code", "کد رهگیری 48213377 امتیاز 5", rating(5, "کد رهگیری 48213377")},
	{"latin code", "A123", none("A123")},
	{"jalali date", "1403/05/12 مراجعه کردم", none("1403/05/12 مراجعه کردم")},
	{"amount", "۲۵۰٬۰۰۰ تومان گرفتند", none("۲۵۰٬۰۰۰ تومان گرفتند")},
	// ambiguity
	{"3-4", "3-4", ambiguous("")},
	{"two digits", "۴ ۵", ambiguous("")},
	{"decimal", "4.5", ambiguous("")},
	{"or", "۴ یا ۵", ambiguous("یا")},
	{"zero", "0", ambiguous("")},
	{"six", "6", ambiguous("")},
	{"seven", "۷", ambiguous("")},
	{"ten", "10", ambiguous("")},
	{"hundred", "100", ambiguous("")},
	{"out of ten", "۸ از ۱۰", ambiguous("از")},
	{"two words", "خوب بود ولی کارمند بد", ambiguous("ولی کارمند")},
	{"digit wins over a different word", "خوب 5", rating(5, "خوب")},
	{"word six", "شش", ambiguous("")},
	// words
	{"aali", "عالی", rating(5, "")},
	{"aali arabic yeh", "عالي", rating(5, "")},
	{"aali bood", "عالی بود", rating(5, "")},
	{"aali elongated", "عالیییییی", rating(5, "")},
	{"aalie colloquial", "عالیه ممنون", rating(5, "ممنون")},
	{"kheili khoob", "خیلی خوب", rating(5, "")},
	{"kheili khoob arabic letters", "خيلي خوب", rating(5, "")},
	{"kheili khoob zwnj", "خیلی‌خوب", rating(5, "")},
	{"besyar khoob", "بسیار خوب بود", rating(5, "")},
	{"fogholade", "فوق‌العاده بود", rating(5, "")},
	{"khoob", "خوب", rating(4, "")},
	{"khoob bood with text", "خوب بود ولی شلوغ", rating(4, "ولی شلوغ")},
	{"khoob with tatweel", "خـــوب", rating(4, "")},
	{"motevaset", "متوسط", rating(3, "")},
	{"mamooli", "معمولی بود", rating(3, "")},
	{"zaeef", "ضعیف", rating(2, "")},
	{"bad", "بد", rating(2, "")},
	{"kheili bad", "خیلی بد", rating(1, "")},
	{"besyar bad", "بسیار بد بود", rating(1, "")},
	{"aftezah", "افتضاح", rating(1, "")},
	{"aftezah with text", "افتضاح، سه بار رفتم و برگشتم", rating(1, "سه بار رفتم و برگشتم")},
	{"unacceptable", "غیر قابل قبول", rating(1, "")},
	// negation
	{"khoob nabood", "خوب نبود", rating(2, "")},
	{"aslan khoob nabood", "اصلا خوب نبود", rating(1, "")},
	{"aslan with tanwin", "اصلاً خوب نبود", rating(1, "")},
	{"ziad khoob nabood", "زیاد خوب نبود", rating(2, "")},
	{"khoob ham nabood", "خوب هم نبود", rating(2, "")},
	{"bad nabood", "بد نبود", rating(3, "")},
	{"badak nabood", "بدک نبود", rating(3, "")},
	{"bad nabood joined", "بدنبود", rating(3, "")},
	{"khoob nist", "خوب نیست", rating(2, "")},
	{"neither good nor bad", "نه خوب نه بد", rating(3, "")},
	{"aali nabood", "عالی نبود", rating(2, "")},
	{"motevaset nabood", "متوسط نبود", ambiguous("")},
	{"not good", "not good", rating(2, "")},
	{"not bad", "not bad", rating(3, "")},
	{"not good at all", "not good at all", rating(1, "")},
	{"very good negated", "خیلی خوب نبود", rating(2, "")},
	// number words
	{"yek", "یک", rating(1, "")},
	{"do", "دو", rating(2, "")},
	{"se", "سه", rating(3, "")},
	{"chahar", "چهار", rating(4, "")},
	{"panj", "پنج", rating(5, "")},
	{"panj setare", "پنج ستاره", rating(5, "")},
	{"yek saat is a complaint", "یک ساعت معطل شدم", none("یک ساعت معطل شدم")},
	// English and Latin-typed Persian
	{"excellent", "Excellent", rating(5, "")},
	{"very good", "very good", rating(5, "")},
	{"good", "good", rating(4, "")},
	{"terrible", "Terrible service", rating(1, "service")},
	{"finglish aali", "aali", rating(5, "")},
	{"finglish aali elongated", "aaaali bood", rating(5, "")},
	{"finglish kheili khoob", "kheili khoob bood", rating(5, "")},
	{"finglish khoob", "khoob", rating(4, "")},
	{"finglish khub", "Khub", rating(4, "")},
	{"finglish mamooli", "mamooli", rating(3, "")},
	{"finglish zaeef", "zaeef", rating(2, "")},
	{"finglish bad alone", "bad", rating(2, "")},
	{"finglish bad bood", "bad bood", rating(2, "")},
	{"finglish kheili bad", "kheili bad", rating(1, "")},
	{"finglish khoob nabood", "khoob nabood", rating(2, "")},
	{"finglish bad means after", "bad az 2 saat nobatam shod", none("bad az 2 saat nobatam shod")},
	{"finglish aftezah", "aftezah", rating(1, "")},
	// emoji
	{"thumbs up alone", "👍", ambiguous("👍")},
	{"angry alone", "😡", ambiguous("😡")},
	{"heart with variation selector", "❤️", ambiguous("❤️")},
	{"stars", "⭐⭐⭐⭐", rating(4, "")},
	{"black stars with text", "★★ خیلی شلوغ بود", rating(2, "خیلی شلوغ بود")},
	{"too many stars", "⭐⭐⭐⭐⭐⭐", ambiguous("⭐⭐⭐⭐⭐⭐")},
	{"digit and emoji", "5 👍", rating(5, "👍")},
	{"word and emoji", "عالی بود 🌹🌹", rating(5, "🌹🌹")},
	{"emoji and thanks", "ممنون 🙏", none("ممنون 🙏")},
	// commands
	{"11", "11", cmd(sms.KindOptOut)},
	{"persian 11", "۱۱", cmd(sms.KindOptOut)},
	{"arabic 11", "١١", cmd(sms.KindOptOut)},
	{"laghv", "لغو", cmd(sms.KindOptOut)},
	{"laghv 11", "لغو ۱۱", cmd(sms.KindOptOut)},
	{"11 laghv", "۱۱ لغو", cmd(sms.KindOptOut)},
	{"please cancel", "لطفا لغو کنید", cmd(sms.KindOptOut)},
	{"STOP", "STOP", cmd(sms.KindOptOut)},
	{"stop sentence", "Stop sending me messages", cmd(sms.KindOptOut)},
	{"cancel", "cancel", cmd(sms.KindOptOut)},
	{"11 thanks", "11 ممنون", cmd(sms.KindOptOut)},
	{"12", "12", cmd(sms.KindResubscribe)},
	{"persian 12", "۱۲", cmd(sms.KindResubscribe)},
	{"arabic 12", "١٢", cmd(sms.KindResubscribe)},
	{"11 inside a sentence is not a command", "ساعت 11 رفتم خوب بود", rating(4, "ساعت 11 رفتم")},
	// nothing
	{"empty", "", none("")},
	{"whitespace", " \t\n ", none("")},
	{"punctuation", "؟!", none("")},
	{"thanks only", "ممنون", none("ممنون")},
	{"yes", "بله", none("بله")},
	{"question", "این پیام از طرف کیه؟", none("این پیام از طرف کیه؟")},
	{"arabic letters text", "شكراً جزيلاً", none("شكراً جزيلاً")},
	{"control characters", "۵\x00\x07", rating(5, "")},
}

func rating(v int, comment string) sms.Reply {
	return sms.Reply{Kind: sms.KindRating, Rating: v, Comment: comment}
}
func ambiguous(comment string) sms.Reply { return sms.Reply{Kind: sms.KindAmbiguous, Comment: comment} }
func none(comment string) sms.Reply      { return sms.Reply{Kind: sms.KindNone, Comment: comment} }
func cmd(k sms.Kind) sms.Reply           { return sms.Reply{Kind: k} }

func TestParseTable(t *testing.T) {
	if len(parseCases) < 80 {
		t.Fatalf("only %d cases; the issue asks for at least 80", len(parseCases))
	}
	seen := map[string]bool{}
	for _, tc := range parseCases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			if got := sms.Parse(tc.in); got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseLongReply(t *testing.T) {
	long := "۴ " + strings.Repeat("صف خیلی طولانی بود و ", 500) // ~10k runes
	if n := utf8.RuneCountInString(long); n < 10000 {
		t.Fatalf("test reply has %d runes, want ≥ 10000", n)
	}
	got := sms.Parse(long)
	if got.Kind != sms.KindRating || got.Rating != 4 {
		t.Fatalf("Parse(long) = %s/%d, want rating 4", got.Kind, got.Rating)
	}
	if n := utf8.RuneCountInString(got.Comment); n != sms.MaxCommentRunes || !strings.HasSuffix(got.Comment, "…") ||
		!strings.HasPrefix(got.Comment, "صف خیلی طولانی") {
		t.Fatalf("comment has %d runes (want %d, cut with …): %.40q", n, sms.MaxCommentRunes, got.Comment)
	}
	// A long reply with two ratings far apart is still ambiguous, and one without any is none.
	if got := sms.Parse(long + " ۲"); got.Kind != sms.KindAmbiguous {
		t.Fatalf("long reply with 4 … 2 = %s, want ambiguous", got.Kind)
	}
	if got := sms.Parse(strings.Repeat("x", 10000)); got.Kind != sms.KindNone || utf8.RuneCountInString(got.Comment) != sms.MaxCommentRunes {
		t.Fatalf("10k letters = %s with %d-rune comment", got.Kind, utf8.RuneCountInString(got.Comment))
	}
}

func TestParseJSON(t *testing.T) {
	for in, want := range map[string]string{
		"۴ ولی معطل شدم": `{"kind":"rating","rating":4,"comment":"ولی معطل شدم"}`,
		"لغو ۱۱":         `{"kind":"optout"}`,
		"":               `{"kind":"none"}`,
		"3-4":            `{"kind":"ambiguous"}`,
	} {
		b, err := json.Marshal(sms.Parse(in))
		if err != nil || string(b) != want {
			t.Errorf("json(Parse(%q)) = %s, %v; want %s", in, b, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	f.Add("\xff\xfe۵")
	f.Add(strings.Repeat("۱", 300))
	f.Fuzz(func(t *testing.T, in string) {
		got := sms.Parse(in)
		switch got.Kind {
		case sms.KindRating:
			if got.Rating < 1 || got.Rating > 5 {
				t.Fatalf("Parse(%q): rating %d out of 1–5", in, got.Rating)
			}
		case sms.KindOptOut, sms.KindResubscribe, sms.KindAmbiguous, sms.KindNone:
			if got.Rating != 0 {
				t.Fatalf("Parse(%q): %s with rating %d", in, got.Kind, got.Rating)
			}
		default:
			t.Fatalf("Parse(%q): kind %q", in, got.Kind)
		}
		if !utf8.ValidString(got.Comment) || utf8.RuneCountInString(got.Comment) > sms.MaxCommentRunes {
			t.Fatalf("Parse(%q): comment invalid or too long (%d runes)", in, utf8.RuneCountInString(got.Comment))
		}
		if got.Comment != strings.TrimSpace(got.Comment) {
			t.Fatalf("Parse(%q): comment %q not trimmed", in, got.Comment)
		}
		if again := sms.Parse(in); again != got {
			t.Fatalf("Parse(%q) not deterministic: %+v then %+v", in, got, again)
		}
		if n := sms.Normalize(in); sms.Normalize(n) != n {
			t.Fatalf("Normalize not idempotent on %q: %q → %q", in, n, sms.Normalize(n))
		}
	})
}
