package sms

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a citizen's reply does: rate the visit, stop or restart Afkar's messages, or none
// of these. Intake, the opt-out list and the clarifying SMS each branch on it.
type Kind string

// The kinds of reply.
const (
	// KindRating is one clear 1–5 rating; Reply.Rating holds it.
	KindRating Kind = "rating"
	// KindOptOut asks for no more Afkar SMS («۱۱», «لغو», "stop"): honoured before anything else.
	KindOptOut Kind = "optout"
	// KindResubscribe («۱۲») undoes an opt-out.
	KindResubscribe Kind = "resubscribe"
	// KindAmbiguous tried to answer but not clearly: two different ratings, a number out of
	// 1–5, a negated «متوسط», or only emoji. It earns one clarifying SMS, never a guess.
	KindAmbiguous Kind = "ambiguous"
	// KindNone carries no rating and no command: empty, or text only (kept as Comment).
	KindNone Kind = "none"
)

// MaxCommentRunes bounds Reply.Comment: a concatenated SMS can be long, a comment is read by staff
// on one screen. A longer comment is cut and ends with "…".
const MaxCommentRunes = 500

// Reply is what one SMS reply says, as Parse reads it. Its JSON form is the line `afkar sms parse`
// prints: {"kind":"rating","rating":4,"comment":"ولی معطل شدم"}.
type Reply struct {
	Kind Kind `json:"kind"`
	// Rating is 1–5 for KindRating and 0 otherwise.
	Rating int `json:"rating,omitempty"`
	// Comment is the text left after the rating (or the whole text when there is none), in the
	// citizen's own script, trimmed and at most MaxCommentRunes runes; empty for commands.
	Comment string `json:"comment,omitempty"`
}

// Parse reads one SMS reply. It is a pure function of the text: the same reply always parses the
// same way, so a stored inbound message can be re-parsed and the outcome explained.
//
// Order: commands first — a reply whose first word is «لغو», "stop", "cancel", "unsubscribe" or
// «انصراف», or which is only «۱۱» / «لغو ۱۱» (with courtesy words such as «لطفا» or «ممنون»),
// opts out; one that is only «۱۲» re-subscribes. Then ratings, all matched on Normalize'd words:
//
//   - Digits in any script. A number of four or more digits, or a run of numbers joined by spaces,
//     dashes, slashes or dots that adds up to seven or more digits (a phone number, a tracking
//     code, a date), a number glued to Latin letters ("A123"), a time ("10:30") and a quantity
//     («۲ ساعت», «باجه ۳», «ساعت ۱۰») are text, not ratings. Any other number outside 1–5 (0, 6,
//     10, 100) makes the reply ambiguous. "X/5", «X از ۵» and "X out of 5" rate X.
//   - Persian number words «یک» … «پنج» (and "one" … "five") rate only when they are the whole
//     reply (or «X از پنج»): «یک ساعت معطل شدم» is a complaint, not a 1.
//   - Words, when there are no rating digits (digits win: «۴ ولی برخورد بد بود» is a 4 with a
//     comment): عالی / خیلی خوب / بسیار خوب → 5, خوب → 4, متوسط / معمولی → 3, ضعیف / بد → 2,
//     خیلی بد / بسیار بد / افتضاح → 1, some colloquial forms (عالیه, خوبه, افتضاحه), English
//     (excellent, good, average, poor, bad, terrible) and Latin-typed Persian (aali, kheili khoob,
//     khoob, mamooli, zaeef, kheili bad, aftezah). Latin "bad" counts only when it is (nearly)
//     the whole reply, since in Finglish it is also «بعد» ("after"): "bad az 2 saat" is not a 2.
//   - Negation: a positive word negated is 2 («خوب نبود», "not good"), or 1 with «اصلا» / «هیچ» /
//     «ابدا» («اصلا خوب نبود»); a negative word negated is 3 («بد نبود», «بدک نبود», "not bad");
//     «نه خوب نه بد» is 3; a negated «متوسط» is ambiguous.
//   - Stars: with no digit or word rating, the number of ⭐ / ★ / 🌟 (1–5) is the rating.
//
// The same rating twice is that rating; two different ones are ambiguous. A reply of emoji only
// (no stars) is ambiguous too — the citizen answered, but not on the scale, so they are asked once
// more; emoji beside text stay in the comment. Empty or whitespace is KindNone.
func Parse(reply string) Reply {
	p := newParser(strings.ToValidUTF8(reply, "\uFFFD"))
	if k, ok := p.command(); ok {
		return Reply{Kind: k}
	}
	return p.rate()
}

// tokClass sorts a token: a run of letters, a run of digits, or what lies between.
type tokClass uint8

const (
	tSep tokClass = iota
	tWord
	tNum
)

// token is a piece of the reply: orig as written (for the comment), norm as matched.
type token struct {
	class tokClass
	orig  string
	norm  string
	latin bool // a word in Latin letters
}

// cand is one rating the reply seems to give, with the tokens that say it.
type cand struct {
	v    int
	toks []int // indices into parser.toks
}

// parser holds one reply cut into tokens; c lists the word and number tokens (content), and
// consumed marks the tokens a command or rating used up, which the comment leaves out.
type parser struct {
	toks      []token
	c         []int
	mf        []string // match form of each content token: its norm, or a squeezed variant the lexicon knows
	consumed  []bool
	dropStars bool
}

func newParser(s string) *parser {
	p := &parser{toks: tokenize(s)}
	p.consumed = make([]bool, len(p.toks))
	for i, t := range p.toks {
		if t.class != tSep {
			p.c = append(p.c, i)
			p.mf = append(p.mf, matchForm(t.norm))
		}
	}
	return p
}

// tokenize cuts s into maximal runs of letters, of digits and of everything else. Combining marks
// and invisible format characters (ZWNJ, RLM …) stay with the run they are in, so «خیلی‌خوب» is one
// word; a digit run next to a letter run is cut («۵تا» → «۵», «تا»).
func tokenize(s string) []token {
	var toks []token
	cur, start := tSep, 0
	flush := func(end int) {
		if end <= start {
			return
		}
		t := token{class: cur, orig: s[start:end]}
		if cur != tSep {
			t.norm = Normalize(t.orig)
			switch {
			case t.norm == "":
				t.class = tSep
			case cur == tNum && !allDigits(t.norm):
				t.class = tWord
			}
			t.latin = t.class == tWord && isLatin(t.norm)
		}
		if n := len(toks); n > 0 && t.class == tSep && toks[n-1].class == tSep {
			toks[n-1].orig += t.orig
			return
		}
		toks = append(toks, t)
	}
	for i, r := range s {
		var c tokClass
		switch {
		case unicode.IsDigit(r):
			c = tNum
		case unicode.IsLetter(r):
			c = tWord
		case unicode.IsMark(r) || unicode.Is(unicode.Cf, r):
			c = cur
		default:
			c = tSep
		}
		if c != cur {
			flush(i)
			cur, start = c, i
		}
	}
	flush(len(s))
	return toks
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLatin(s string) bool {
	for _, r := range s {
		if !unicode.In(r, unicode.Latin) {
			return false
		}
	}
	return true
}

// n is the number of content tokens; tok, norm and gap address them by content index.
func (p *parser) n() int          { return len(p.c) }
func (p *parser) tok(k int) token { return p.toks[p.c[k]] }

// consumeRange marks tokens (indices into toks) as used.
func (p *parser) consumeRange(i []int) {
	for _, x := range i {
		p.consumed[x] = true
	}
}

// gap is the text between content tokens k-1 and k ("" when they touch).
func (p *parser) gap(k int) string {
	var b strings.Builder
	for i := p.c[k-1] + 1; i < p.c[k]; i++ {
		b.WriteString(p.toks[i].orig)
	}
	return b.String()
}

// gapMark is the gap between content tokens k-1 and k without spaces and invisible characters:
// "" when they are separated by whitespace only, "/" in "5 / 5".
func (p *parser) gapMark(k int) string {
	return strings.TrimFunc(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || isInvisible(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, p.gap(k)), unicode.IsSpace)
}

// spaced reports whether content tokens k-1 and k are separated by whitespace only (or touch),
// so that they can be one phrase.
func (p *parser) spaced(k int) bool { return k > 0 && k < p.n() && p.gapMark(k) == "" }

// command recognises opt-out and re-subscribe replies.
func (p *parser) command() (Kind, bool) {
	var words []string
	for k := range p.c {
		if !fillers[p.mf[k]] {
			words = append(words, p.mf[k])
		}
	}
	if len(words) == 0 {
		return "", false
	}
	if optOutLead[words[0]] {
		return KindOptOut, true
	}
	only := func(set map[string]bool) bool {
		for _, w := range words {
			if !set[w] {
				return false
			}
		}
		return true
	}
	switch {
	case only(optOutOnly):
		return KindOptOut, true
	case only(resubscribeOnly):
		return KindResubscribe, true
	}
	return "", false
}

// rate finds the rating, if any, and the comment.
func (p *parser) rate() Reply {
	ident := p.identifiers()
	var digits, words []cand
	for k := 0; k < p.n(); k++ {
		t := p.tok(k)
		switch t.class {
		case tNum:
			if ident[k] || p.quantity(k) {
				continue
			}
			v := numValue(t.norm)
			if m := p.outOfFive(k); m > 0 {
				digits = append(digits, p.scoreCand(v, k, k+m))
				k += m
				continue
			}
			digits = append(digits, p.scoreCand(v, k, k))
		case tWord:
			if v, ok := numberWords[p.mf[k]]; ok {
				if m := p.outOfFive(k); m > 0 {
					digits = append(digits, p.scoreCand(v, k, k+m))
					k += m
				} else if p.alone(k, nil) {
					digits = append(digits, p.scoreCand(v, k, k))
				}
				continue
			}
			if m, c, ok := p.phrase(k); ok {
				words = append(words, c)
				k += m - 1
			}
		}
	}
	switch {
	case len(digits) > 0:
		r := p.decide(digits)
		if r.Kind == KindRating {
			for _, w := range words {
				if w.v == r.Rating {
					p.consumeRange(w.toks)
				}
			}
			r.Comment = p.comment()
		}
		return r
	case len(words) > 0:
		return p.decide(words)
	}
	if n := p.stars(); n > 0 {
		if n > 5 {
			return Reply{Kind: KindAmbiguous, Comment: p.comment()}
		}
		p.dropStars = true
		return Reply{Kind: KindRating, Rating: n, Comment: p.comment()}
	}
	com := p.comment()
	if p.n() == 0 && hasEmoji(com) {
		return Reply{Kind: KindAmbiguous, Comment: com}
	}
	return Reply{Kind: KindNone, Comment: com}
}

// decide turns the candidates of one class into a rating, or ambiguity when they disagree or one
// is off the scale.
func (p *parser) decide(cs []cand) Reply {
	v := cs[0].v
	kind := KindRating
	for _, c := range cs {
		p.consumeRange(c.toks)
		if c.v < 1 || c.v > 5 || c.v != v {
			kind = KindAmbiguous
		}
	}
	if kind != KindRating {
		v = 0
	}
	return Reply{Kind: kind, Rating: v, Comment: p.comment()}
}

// cand is a candidate rating v said by content tokens from..to inclusive and the gaps between.
func (p *parser) cand(v, from, to int) cand {
	c := cand{v: v}
	for i := p.c[from]; i <= p.c[to]; i++ {
		c.toks = append(c.toks, i)
	}
	return c
}

// scoreCand is a number said by content tokens from..to («۴», «۴ از ۵»), with a «امتیاز» or
// «نمره» just before it and a «ستاره» just after it.
func (p *parser) scoreCand(v, from, to int) cand {
	if from > 0 && p.spaced(from) && scoreWords[p.mf[from-1]] {
		from--
	}
	if to+1 < p.n() && p.spaced(to+1) && starWords[p.mf[to+1]] {
		to++
	}
	return p.cand(v, from, to)
}

// identifiers marks the numbers that are part of something longer: phone numbers, tracking codes,
// dates, times, amounts, codes glued to Latin letters.
func (p *parser) identifiers() []bool {
	ident := make([]bool, p.n())
	for k := 0; k < p.n(); {
		if p.tok(k).class != tNum {
			k++
			continue
		}
		end, total, long := k, 0, false
		for j := k; ; j++ {
			d := len(p.tok(j).norm)
			total += d
			if d >= 4 {
				long = true
			}
			if j > k {
				switch g := p.gapMark(j); g {
				case ":", "：":
					long = true // a time
				case ",", "٬", "،":
					long = long || d == 3 // thousands
				}
			}
			if (j > 0 && p.gap(j) == "" && p.tok(j-1).latin) || (j+1 < p.n() && p.gap(j+1) == "" && p.tok(j+1).latin) {
				long = true // a code: "A123", "123abc"
			}
			end = j
			if j+1 >= p.n() || p.tok(j+1).class != tNum || !numberJoin(p.gapMark(j+1), len(p.tok(j+1).norm)) {
				break
			}
		}
		if long || total >= 7 {
			for j := k; j <= end; j++ {
				ident[j] = true
			}
		}
		k = end + 1
	}
	return ident
}

// numberJoin reports whether a gap joins two digit runs into one longer number: whitespace, a
// dash, a slash, a dot (or the Arabic decimal sign), a colon, or a thousands comma before three
// digits.
func numberJoin(mark string, nextDigits int) bool {
	switch mark {
	case "", "-", "–", "—", "/", ".", "٫", "_", ":", "：":
		return true
	case ",", "٬", "،":
		return nextDigits == 3
	}
	return false
}

// numValue is the value of a run of at most three ASCII digits (longer runs are identifiers).
func numValue(s string) int {
	if len(s) > 3 {
		return 1000
	}
	v, _ := strconv.Atoi(s)
	return v
}

// quantity reports a number that counts or names something other than the rating: «۲ ساعت»,
// «۱۰ دقیقه», «ساعت ۱۰», «باجه ۳».
func (p *parser) quantity(k int) bool {
	if k+1 < p.n() && p.spaced(k+1) && hasUnitPrefix(p.mf[k+1]) {
		return true
	}
	return k > 0 && p.spaced(k) && numberMarkers[p.mf[k-1]]
}

func hasUnitPrefix(w string) bool {
	if units[w] {
		return true
	}
	for u := range units {
		if utf8.RuneCountInString(u) >= 3 && strings.HasPrefix(w, u) {
			return true
		}
	}
	return false
}

// outOfFive reports "X/5", «X از ۵», "X of 5" and "X out of 5" at content index k: how many
// content tokens after k the denominator takes, or 0.
func (p *parser) outOfFive(k int) int {
	isFive := func(j int) bool {
		if j >= p.n() {
			return false
		}
		if p.tok(j).class == tNum {
			return p.tok(j).norm == "5" || p.tok(j).norm == "05"
		}
		return numberWords[p.mf[j]] == 5
	}
	if k+1 < p.n() && p.gapMark(k+1) == "/" && isFive(k+1) {
		return 1
	}
	if k+2 < p.n() && p.spaced(k+1) && p.spaced(k+2) && ofWords[p.mf[k+1]] && isFive(k+2) {
		return 2
	}
	if k+3 < p.n() && p.spaced(k+1) && p.spaced(k+2) && p.spaced(k+3) &&
		p.mf[k+1] == "out" && p.mf[k+2] == "of" && isFive(k+3) {
		return 3
	}
	return 0
}

// alone reports whether every content token other than k (and those in also) is a courtesy,
// score or copula word: the reply is just the word at k.
func (p *parser) alone(k int, also map[string]bool) bool {
	for j := range p.c {
		w := p.mf[j]
		if j == k || fillers[w] || scoreWords[w] || starWords[w] || copulas[w] || also[w] {
			continue
		}
		return false
	}
	return true
}

// phrase matches the longest rating phrase starting at content index k, with its negation and a
// following copula («بود», «است»). It returns how many content tokens from k the phrase itself
// takes (a preceding negation or intensifier is consumed too but not counted).
func (p *parser) phrase(k int) (int, cand, bool) {
	for m := maxPhrase; m >= 1; m-- {
		if k+m > p.n() {
			continue
		}
		key := p.mf[k]
		ok := true
		for j := k + 1; j < k+m; j++ {
			if !p.spaced(j) {
				ok = false
				break
			}
			key += " " + p.mf[j]
		}
		if !ok {
			continue
		}
		v, found := lexicon[key]
		neg := false
		if !found && m == 1 {
			v, neg, found = joinedNegation(key)
		}
		if !found {
			continue
		}
		if m == 1 && key == "bad" && !p.alone(k, finglishBadContext) {
			return 0, cand{}, false // Finglish «بعد» ("after") inside a sentence
		}
		from, to := k, k+m-1
		if k > 0 && p.spaced(k) && preNegators[p.mf[k-1]] {
			neg, from = true, k-1
		}
		j := to + 1
		if !neg && j+1 < p.n() && p.spaced(j) && p.spaced(j+1) && p.mf[j] == "هم" && negators[p.mf[j+1]] {
			neg, to = true, j+1 // «خوب هم نبود»
		} else if j < p.n() && p.spaced(j) && negators[p.mf[j]] && !neg {
			neg, to = true, j
		} else if j < p.n() && p.spaced(j) && copulas[p.mf[j]] {
			to = j
		}
		if neg {
			strong := false
			if to+2 < p.n() && p.spaced(to+1) && p.spaced(to+2) && p.mf[to+1] == "at" && p.mf[to+2] == "all" {
				strong, to = true, to+2 // "not good at all"
			}
			if from > 0 && p.spaced(from) && (strongNegators[p.mf[from-1]] || mildNegators[p.mf[from-1]]) {
				strong = strong || strongNegators[p.mf[from-1]]
				from--
			}
			switch {
			case v >= 4 && strong:
				v = 1
			case v >= 4:
				v = 2
			case v <= 2:
				v = 3
			default:
				v = -1 // «متوسط نبود»: better or worse? ask
			}
		}
		return m, p.cand(v, from, to), true
	}
	return 0, cand{}, false
}

// joinedNegation reads a rating word typed together with its negation: «بدنبود», «خوبنبود» (the
// ZWNJ in «بد‌نبود» is dropped by Normalize).
func joinedNegation(w string) (v int, neg, ok bool) {
	for _, suffix := range []string{"نبود", "نیست"} {
		if base, cut := strings.CutSuffix(w, suffix); cut && base != "" {
			if v, ok := lexicon[base]; ok {
				return v, true, true
			}
		}
	}
	return 0, false, false
}

// stars counts filled star emoji.
func (p *parser) stars() int {
	n := 0
	for _, t := range p.toks {
		if t.class == tSep {
			n += strings.Count(t.orig, "⭐") + strings.Count(t.orig, "★") + strings.Count(t.orig, "🌟")
		}
	}
	return n
}

func hasEmoji(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.So, r) {
			return true
		}
	}
	return false
}

// comment is the reply without the consumed tokens, cleaned for display.
func (p *parser) comment() string {
	var b strings.Builder
	for i, t := range p.toks {
		if p.consumed[i] {
			b.WriteByte(' ')
			continue
		}
		s := t.orig
		if p.dropStars && t.class == tSep {
			s = strings.NewReplacer("⭐", "", "★", "", "🌟", "").Replace(s)
		}
		b.WriteString(s)
	}
	return cleanComment(b.String())
}

// cleanComment collapses whitespace, drops control characters, trims punctuation left dangling
// at the ends (the «،» after a removed «۵»), returns "" when nothing readable (a letter, a digit,
// an emoji) is left, and bounds the length.
func cleanComment(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimLeftFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune(",،;؛:-–—/|\\.", r)
	})
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune(",،;؛:-–—/|\\", r)
	})
	readable := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.So, r) { // So: emoji
			readable = true
			break
		}
	}
	if !readable {
		return ""
	}
	if utf8.RuneCountInString(s) > MaxCommentRunes {
		r := []rune(s)[:MaxCommentRunes-1]
		s = strings.TrimRightFunc(string(r), unicode.IsSpace) + "…"
	}
	return s
}
