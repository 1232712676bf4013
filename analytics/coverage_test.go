package analytics

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

// The coverage test draws many small agencies from known populations of citizens and checks
// that the published 95% intervals of the headline figures hold the population value in at
// least 93% of the draws, for every design and sample size. It uses the exact code paths of a
// score — citizenValues (as Delta folds a response), the per-citizen thresholds, BoundedMeanCI,
// Proportion, NPSCI, NationalIndex — and only skips the rollup tables, whose sums are exact.
// With AFKAR_WRITE_DOCS=1 it rewrites the tables in docs/statistics.md.

const coverageMin = 0.93

// coverageDraws is the number of draws per cell: at least 2000 even where a figure can be
// undefined (no nps answer among 3 citizens), and more where the lattice of small samples makes
// coverage jumpy, so that a cell's Monte Carlo error (≈ 0.35 points) is far below the margin.
func coverageDraws(n int) int {
	if n <= 100 {
		return 4000
	}
	return 2500
}

var coverageNs = []int{3, 10, 30, 100, 1000}

// citizen is a reusable buffer for one generated response, so a draw allocates nothing.
type citizen struct {
	r    survey.Response
	nums [8]int
}

func (c *citizen) reset() { c.r.Answers = c.r.Answers[:0] }

func (c *citizen) answer(id string, t survey.QuestionType, v int, headline bool) {
	i := len(c.r.Answers)
	c.nums[i] = v
	c.r.Answers = append(c.r.Answers, survey.Answer{QuestionID: id, Type: t, Number: &c.nums[i], Headline: headline})
}

// truth is a design's population values; NaN where the design does not define a figure.
type truth struct{ mean, csat, nps float64 }

// values lists the true value of each figure, in the order of figures (the index is the mean
// mapped onto 0–100).
func (t truth) values() [4]float64 { return [4]float64{t.mean, t.csat, (t.mean - 1) / 4 * 100, t.nps} }

// design is a population of citizens: gen fills one citizen's answers.
type design struct {
	name  string
	about string
	truth truth
	gen   func(rng *rand.Rand, c *citizen)
}

// pick draws an index from probabilities that sum to 1.
func pick(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	for i, x := range p {
		if u < x {
			return i
		}
		u -= x
	}
	return len(p) - 1
}

// oneRating is a design in which every citizen answers one headline rating drawn from p (1…5).
func oneRating(name, about string, p []float64) design {
	var mean, csat float64
	for i, x := range p {
		mean += x * float64(i+1)
		if i+1 >= 4 {
			csat += x
		}
	}
	return design{name: name, about: about, truth: truth{mean, csat, math.NaN()},
		gen: func(rng *rand.Rand, c *citizen) {
			c.answer("overall", survey.TypeRating5, 1+pick(rng, p), true)
		}}
}

// npsValue draws an nps answer of the class (0 promoter, 1 passive, 2 detractor).
func npsValue(rng *rand.Rand, class int) int {
	switch class {
	case 0:
		return 9 + rng.IntN(2)
	case 1:
		return 7 + rng.IntN(2)
	}
	return rng.IntN(7)
}

// oneNPS is a design in which every citizen answers one headline nps question whose class
// (promoter, passive, detractor) is drawn from p.
func oneNPS(name, about string, p []float64) design {
	return design{name: name, about: about, truth: truth{math.NaN(), math.NaN(), 100 * (p[0] - p[2])},
		gen: func(rng *rand.Rand, c *citizen) {
			c.answer("recommend", survey.TypeNPS, npsValue(rng, pick(rng, p)), true)
		}}
}

// The realistic design: a citizen's latent satisfaction class drives every answer, so its
// ratings are strongly correlated (the reason the headline counts citizens, not answers).
var (
	classP      = []float64{0.08, 0.12, 0.20, 0.35, 0.25}
	classRating = [][]float64{
		{0.55, 0.30, 0.10, 0.04, 0.01},
		{0.15, 0.45, 0.30, 0.08, 0.02},
		{0.03, 0.15, 0.55, 0.22, 0.05},
		{0.01, 0.03, 0.16, 0.55, 0.25},
		{0.00, 0.01, 0.04, 0.25, 0.70},
	}
	classNPS = [][]float64{ // promoter, passive, detractor
		{0.02, 0.08, 0.90},
		{0.05, 0.15, 0.80},
		{0.15, 0.35, 0.50},
		{0.45, 0.40, 0.15},
		{0.80, 0.17, 0.03},
	}
)

const (
	realisticClarity = 0.6 // share of citizens who also rate clarity (3 or 4 ratings)
	realisticNPS     = 0.7 // share who answer the nps question
)

func realistic() design {
	// Exact truth by enumeration: class × overall × respect × speed × (no clarity | clarity).
	var mean, csat, nps float64
	for c, pc := range classP {
		p := classRating[c]
		nps += pc * (classNPS[c][0] - classNPS[c][2])
		for o := 1; o <= 5; o++ {
			for r := 1; r <= 5; r++ {
				for s := 1; s <= 5; s++ {
					base := pc * p[o-1] * p[r-1] * p[s-1]
					for cl := 0; cl <= 5; cl++ { // 0: not answered
						w, sum, k := base*(1-realisticClarity), o+r+s, 3
						if cl > 0 {
							w, sum, k = base*realisticClarity*p[cl-1], sum+cl, 4
						}
						mean += w * float64(sum) / float64(k)
						if sum >= 4*k {
							csat += w
						}
					}
				}
			}
		}
	}
	return design{name: "realistic", truth: truth{mean, csat, 100 * nps},
		about: "latent class drives 3–4 correlated ratings, a conditional follow-up rating (not headline) and an nps answer (70%)",
		gen: func(rng *rand.Rand, c *citizen) {
			class := pick(rng, classP)
			p := classRating[class]
			overall := 1 + pick(rng, p)
			c.answer("overall", survey.TypeRating5, overall, true)
			c.answer("respect", survey.TypeRating5, 1+pick(rng, p), true)
			c.answer("speed", survey.TypeRating5, 1+pick(rng, p), true)
			if rng.Float64() < realisticClarity {
				c.answer("clarity", survey.TypeRating5, 1+pick(rng, p), true)
			}
			if overall <= 2 {
				c.answer("wait", survey.TypeRating5, 1+rng.IntN(2), false) // "how bad was the wait?"
			}
			if rng.Float64() < realisticNPS {
				c.answer("recommend", survey.TypeNPS, npsValue(rng, pick(rng, classNPS[class])), true)
			}
		}}
}

func coverageDesigns() []design {
	return []design{
		oneRating("uniform", "one rating, 1–5 equally likely", []float64{.2, .2, .2, .2, .2}),
		oneRating("skewed", "one rating, a typical skew: 5/7/13/35/40%", []float64{.05, .07, .13, .35, .40}),
		oneRating("95% fives", "one rating: 95% fives, the rest spread over 1–4", []float64{.0125, .0125, .0125, .0125, .95}),
		oneRating("95% fives, 5% ones", "one rating: 95% fives, 5% ones (a rare extreme)", []float64{.05, 0, 0, 0, .95}),
		oneRating("bimodal", "one rating: 40% ones, 45% fives", []float64{.40, .05, .05, .05, .45}),
		oneRating("all fives", "every citizen rates 5 (the truth is on the bound)", []float64{0, 0, 0, 0, 1}),
		oneNPS("nps typical", "nps: 50% promoters, 30% passives, 20% detractors", []float64{.5, .3, .2}),
		oneNPS("all passives", "nps: every citizen a passive (7 or 8)", []float64{0, 1, 0}),
		oneNPS("mostly promoters", "nps: 90/8/2%", []float64{.9, .08, .02}),
		oneNPS("polarised", "nps: 45% promoters, 45% detractors", []float64{.45, .10, .45}),
		realistic(),
	}
}

// figures names the four headline figures in table order.
var figures = []string{"mean", "CSAT", "index", "NPS"}

// coverageCell is one design × figure × n: how many draws defined the figure and covered the
// truth.
type coverageCell struct {
	defined, covered int
	width            float64 // sum of interval widths
}

func (c coverageCell) rate() float64 { return float64(c.covered) / float64(c.defined) }

// drawScore draws n citizens and returns the four headline estimates computed as a score does.
func drawScore(rng *rand.Rand, d design, n int, c *citizen) [4]Estimate {
	var h headline
	var classes npsClasses
	for i := 0; i < n; i++ {
		c.reset()
		d.gen(rng, c)
		head, nps := citizenValues(&c.r)
		if head.ok {
			h.citizens.n++
			h.citizens.sum += head.scaled
			h.citizens.sumSq += head.scaled * head.scaled
			if head.bucket() >= satisfiedFrom {
				h.satisfied++
			}
		}
		if nps.ok {
			classes.add(nps.bucket(), promoterFrom, passiveFrom, 1)
		}
	}
	mean, csat := h.estimates()
	p := NPSCI(classes.promoters, classes.passives, classes.detractors)
	return [4]Estimate{mean, csat, NationalIndex(mean), {Value: p.Score, Low: p.Low, High: p.High, N: p.N}}
}

func TestIntervalCoverage(t *testing.T) {
	t.Parallel()
	designs := coverageDesigns()
	cells := make([][4][]coverageCell, len(designs))
	for di, d := range designs {
		want := d.truth.values()
		for f := range figures {
			cells[di][f] = make([]coverageCell, len(coverageNs))
		}
		for ni, n := range coverageNs {
			rng := rand.New(rand.NewPCG(uint64(di)+1, uint64(n))) // one stream per cell: cells do not shift each other
			var c citizen
			for range coverageDraws(n) {
				est := drawScore(rng, d, n, &c)
				for f, e := range est {
					if math.IsNaN(want[f]) || !e.Defined() {
						continue
					}
					if !e.HasInterval() || !(*e.High > *e.Low) {
						t.Fatalf("%s n=%d %s: interval %v–%v is missing or zero-width", d.name, n, figures[f], e.Low, e.High)
					}
					cell := &cells[di][f][ni]
					cell.defined++
					cell.width += *e.High - *e.Low
					// A hair of tolerance for a truth exactly on a bound (all fives: 5 and 100).
					if *e.Low <= want[f]+1e-9 && want[f] <= *e.High+1e-9 {
						cell.covered++
					}
				}
			}
		}
	}
	table := coverageTable(designs, cells)
	t.Logf("coverage of the nominal 95%% intervals:\n%s", table)
	for di, d := range designs {
		for f := range figures {
			for ni, c := range cells[di][f] {
				if c.defined == 0 {
					continue
				}
				if c.defined < 2000 {
					t.Errorf("%s n=%d %s: only %d draws defined the figure", d.name, coverageNs[ni], figures[f], c.defined)
				}
				if c.rate() < coverageMin {
					t.Errorf("%s n=%d %s: coverage %.1f%% < %.0f%%", d.name, coverageNs[ni], figures[f], 100*c.rate(), 100*coverageMin)
				}
			}
		}
	}
	exact := proportionExactTable(t)
	t.Logf("exact binomial coverage of Proportion (CSAT), over true shares 0.001…0.999:\n%s", exact)
	if os.Getenv("AFKAR_WRITE_DOCS") == "1" {
		writeDocSection(t, "coverage", table)
		writeDocSection(t, "binomial", exact)
	}
}

// coverageTable renders the cells as a Markdown table.
func coverageTable(designs []design, cells [][4][]coverageCell) string {
	var b strings.Builder
	b.WriteString("| design | figure | truth |")
	for _, n := range coverageNs {
		fmt.Fprintf(&b, " n = %d |", n)
	}
	b.WriteString("\n|---|---|---:|")
	for range coverageNs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for di, d := range designs {
		want := d.truth.values()
		for f, name := range figures {
			if math.IsNaN(want[f]) {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.4g |", d.name, name, want[f])
			for _, c := range cells[di][f] {
				fmt.Fprintf(&b, " %.1f%% |", 100*c.rate())
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nDraws per cell: %d for n ≤ 100, %d for n = 1000 (fewer where a figure is undefined: no nps answer at all).\n", coverageDraws(100), coverageDraws(1000))
	b.WriteString("\nAverage width of the intervals (same draws; the mean on 1–5, CSAT on 0–1, NPS in points):\n\n")
	b.WriteString("| design | figure |")
	for _, n := range coverageNs {
		fmt.Fprintf(&b, " n = %d |", n)
	}
	b.WriteString("\n|---|---|")
	for range coverageNs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for di, d := range designs {
		want := d.truth.values()
		for f, name := range figures {
			if math.IsNaN(want[f]) || name == "index" {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |", d.name, name)
			for _, c := range cells[di][f] {
				fmt.Fprintf(&b, " %.3g |", c.width/float64(c.defined))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nDesigns:\n\n")
	for _, d := range designs {
		fmt.Fprintf(&b, "- **%s**: %s.\n", d.name, d.about)
	}
	return b.String()
}

// proportionExactTable computes the exact binomial coverage of Proportion — not a simulation:
// for each n, the minimum and the average over true shares p = 0.001 … 0.999 — and fails below
// coverageMin. It is the CSAT interval's guarantee for every share, not only the designs above.
func proportionExactTable(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("| n | minimum coverage | at p | average coverage |\n|---:|---:|---:|---:|\n")
	for _, n := range coverageNs {
		lo, hi := make([]float64, n+1), make([]float64, n+1)
		for k := 0; k <= n; k++ {
			e := Proportion(int64(k), int64(n))
			lo[k], hi[k] = *e.Low, *e.High
		}
		minCov, argMin, sum := 1.0, 0.0, 0.0
		const steps = 1000
		for i := 1; i < steps; i++ {
			p := float64(i) / steps
			cov := 0.0
			for k := 0; k <= n; k++ {
				if lo[k] <= p && p <= hi[k] {
					cov += math.Exp(lchoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
				}
			}
			if cov < minCov {
				minCov, argMin = cov, p
			}
			sum += cov
		}
		if minCov < coverageMin {
			t.Errorf("Proportion, n=%d: exact coverage %.2f%% at p=%.3f", n, 100*minCov, argMin)
		}
		at := fmt.Sprintf("%.3f", argMin)
		if minCov > 0.9995 {
			at = "—"
		}
		fmt.Fprintf(&b, "| %d | %.1f%% | %s | %.1f%% |\n", n, 100*minCov, at, 100*sum/(steps-1))
	}
	return b.String()
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// writeDocSection replaces the text between <!-- name:begin --> and <!-- name:end --> in
// docs/statistics.md.
func writeDocSection(t *testing.T, name, body string) {
	t.Helper()
	path := filepath.Join("..", "docs", "statistics.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := []byte("<!-- "+name+":begin -->\n"), []byte("<!-- "+name+":end -->")
	i, j := bytes.Index(doc, begin), bytes.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s markers", path, name)
	}
	out := append(append(append([]byte{}, doc[:i+len(begin)]...), body...), doc[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
