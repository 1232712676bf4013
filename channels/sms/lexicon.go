package sms

import "strings"

// The words Parse knows. They are written here as people type them and normalised once at start,
// so a list may use Arabic or Persian letters, ZWNJ or none; Parse compares Normalize'd forms.

// ratingWords are the phrases that rate a visit (DOMAIN.md §4), with colloquial, English and
// Latin-typed Persian (Finglish) forms. Repeated letters («عالیییی», "khooob") are handled by
// matchForm, so each word is listed once.
var ratingWords = map[int][]string{
	5: {"عالی", "عالیه", "خیلی خوب", "بسیار خوب", "خیلی‌خوب", "بسیارخوب", "خیلی عالی", "بسیار عالی",
		"فوق‌العاده", "فوق العاده", "ممتاز", "محشر", "بهترین", "عالی عالی",
		"excellent", "great", "perfect", "awesome", "very good", "really good",
		"aali", "aalie", "aaliye", "kheili khoob", "kheili khub", "kheili khob", "kheyli khoob", "kheyli khub",
		"kheyli khob", "khayli khoob", "khaili khoob", "khili khoob", "khyli khoob", "besyar khoob",
		"besiar khoob", "besyar khub", "kheili aali", "fogholade", "fogholadeh", "fogh olade"},
	4: {"خوب", "خوبه", "good", "khoob", "khub", "khob", "khoobe", "khube", "khobe"},
	3: {"متوسط", "متوسطه", "معمولی", "معمولیه", "قابل قبول", "نه خوب نه بد", "نه بد نه خوب",
		"average", "so so",
		"motevaset", "motevasset", "mamooli", "mamuli", "maamooli", "maamuli", "mamoli",
		"na khoob na bad", "na khub na bad"},
	2: {"ضعیف", "ضعیفه", "بد", "بدک", "poor", "bad", "zaeef", "zaif", "zayif", "zaeif"},
	1: {"خیلی بد", "بسیار بد", "خیلی‌بد", "افتضاح", "افتضاحه", "افتضاح افتضاح", "خیلی ضعیف", "بسیار ضعیف",
		"بدترین", "داغون", "افتظاح", "غیر قابل قبول", "غیرقابل قبول",
		"very bad", "really bad", "terrible", "awful", "horrible", "worst",
		"kheili bad", "kheyli bad", "khayli bad", "khaili bad", "khili bad", "besyar bad", "besiar bad",
		"aftezah", "aftezaah", "aftezahe", "kheili zaeef", "kheili zaif"},
}

// numberWords are the spoken numbers; they rate only as the whole reply or in «X از پنج».
// «نه» (nine) is left out: it means "no".
var numberWords = normSet(map[string]int{
	"صفر": 0, "یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "شیش": 6, "هفت": 7, "هشت": 8, "ده": 10,
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"yek": 1, "chahar": 4, "chahaar": 4, "panj": 5,
})

var (
	// optOutLead stop all Afkar SMS when they open the reply.
	optOutLead = words("لغو", "stop", "cancel", "unsubscribe", "انصراف", "laghv")
	// optOutOnly stop all Afkar SMS when the reply is made only of them (and fillers).
	optOutOnly = words("11", "لغو", "stop", "cancel", "unsubscribe", "انصراف", "laghv")
	// resubscribeOnly re-subscribe when the reply is only them.
	resubscribeOnly = words("12")
	// fillers are courtesy and command words that say nothing by themselves.
	fillers = words("لطفا", "لطفاً", "ممنون", "مرسی", "متشکرم", "تشکر", "سپاس", "کن", "کنید", "شود", "بشه", "شه",
		"please", "pls", "plz", "thanks", "thank", "you", "thx", "tnx", "merci", "mamnoon", "mamnun", "merc")
	// scoreWords name the rating next to a number: «امتیاز ۴».
	scoreWords = words("امتیاز", "نمره", "امتیازم", "نمرم", "نمرهام", "score", "rating", "rate", "emtiaz", "nomre")
	// starWords follow a number: «۴ ستاره».
	starWords = words("ستاره", "star", "stars", "setare")
	// ofWords make «X از ۵».
	ofWords = words("از", "of", "az", "from")
	// negators follow a rating word and negate it: «خوب نبود».
	negators = words("نبود", "نیست", "نبودن", "نبودند", "نبوده", "نبودش", "نشد", "نبودید", "نیستن",
		"nabood", "nabud", "nabod", "nist", "nabude", "naboode")
	// preNegators come before a rating word: "not good", «نه خوب».
	preNegators = words("not", "نه", "na")
	// strongNegators before a negated positive word make it a 1: «اصلا خوب نبود».
	strongNegators = words("اصلا", "اصلاً", "ابدا", "ابداً", "هیچ", "اصلن", "aslan", "abadan", "hich")
	// mildNegators soften it to the plain negation (a 2) and are consumed with it: «زیاد خوب نبود».
	mildNegators = words("زیاد", "چندان", "خیلیم", "ziad", "ziyad", "chandan")
	// copulas after a rating word are part of it: «عالی بود».
	copulas = words("بود", "است", "هست", "بودن", "بودند", "بوده", "بودش", "هستن", "هستید", "بودید", "شد",
		"bood", "bud", "bod", "ast", "hast", "was", "is")
	// finglishBadContext may surround Latin "bad" for it to still mean «بد».
	finglishBadContext = words("it", "was", "is", "very", "bood", "bud", "nabood", "nabud", "not", "na", "kheili")
	// units after a number make it a quantity, not a rating: «۲ ساعت», «۱۰ دقیقه». Units of three
	// or more letters also match as prefixes («ساعته», «دقیقه‌ای»).
	units = words("ساعت", "دقیقه", "دیقه", "ثانیه", "روز", "هفته", "ماه", "سال", "بار", "نفر", "هزار", "میلیون", "تومان",
		"تومن", "ریال", "صبح", "ظهر", "عصر", "شب", "نوبت", "مرتبه", "ماهه",
		"saat", "daghighe", "dagighe", "dighe", "min", "mins", "minute", "hour", "day", "week", "month", "year",
		"rooz", "ruz", "nafar", "toman", "am", "pm", "sobh", "asr")
	// numberMarkers before a number make it a name: «باجه ۳», «ساعت ۱۰», «کد ۴۲».
	numberMarkers = words("ساعت", "شماره", "کد", "باجه", "نوبت", "پلاک", "اتاق", "طبقه", "واحد", "ردیف", "پنجره",
		"کیوسک", "saat", "code", "no", "number", "room", "counter", "ticket")
)

// lexicon maps each normalised rating phrase to its rating; vocab holds every word Parse knows, for
// matchForm.
var lexicon, vocab, maxPhrase = buildLexicon()

func buildLexicon() (map[string]int, map[string]bool, int) {
	lex := map[string]int{}
	voc := map[string]bool{}
	longest := 1
	for v, phrases := range ratingWords {
		for _, ph := range phrases {
			n := Normalize(ph)
			lex[n] = v
			ws := strings.Fields(n)
			longest = max(longest, len(ws))
			for _, w := range ws {
				voc[w] = true
			}
		}
	}
	for _, set := range []map[string]bool{optOutLead, optOutOnly, resubscribeOnly, fillers, scoreWords, starWords,
		ofWords, negators, preNegators, strongNegators, mildNegators, copulas, finglishBadContext, units, numberMarkers} {
		for w := range set {
			voc[w] = true
		}
	}
	for w := range numberWords {
		voc[w] = true
	}
	return lex, voc, longest
}

// words is a set of normalised words.
func words(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[Normalize(w)] = true
	}
	return m
}

func normSet(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[Normalize(k)] = v
	}
	return out
}

// matchForm is the form of a normalised word the lexicon is searched with: the word itself when
// known, else the word with runs of three or more equal letters cut to one or two («عالیییی» →
// «عالی», "khooob" → "khoob"), else the word as it is.
func matchForm(w string) string {
	if vocab[w] {
		return w
	}
	for _, keep := range []int{1, 2} {
		if s := squeeze(w, keep); vocab[s] {
			return s
		}
	}
	return w
}

// squeeze cuts every run of three or more equal runes in w to keep runes.
func squeeze(w string, keep int) string {
	r := []rune(w)
	out := r[:0:0]
	for i := 0; i < len(r); {
		j := i
		for j < len(r) && r[j] == r[i] {
			j++
		}
		n := j - i
		if n >= 3 {
			n = keep
		}
		for ; n > 0; n-- {
			out = append(out, r[i])
		}
		i = j
	}
	return string(out)
}
