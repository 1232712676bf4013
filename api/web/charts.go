package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// Charts are drawn on the server as SVG: they print, need no JavaScript and no service outside
// the binary. Every chart has a table beside it with the same figures (for screen readers and
// for people who want the numbers): each SVG carries role="img", an aria-label and
// aria-describedby naming that table. Colours are Okabe–Ito (blue, orange,
// grey), never red against green; intervals are bands or whiskers; the time axis runs the way
// the page reads (right to left, earliest on the right) on every chart.

// Colours of the charts (Okabe–Ito): the figure, its interval, the funnel's limits, the grey of
// figures below the minimum n, and the reference line.
const (
	colBlue   = "#0072b2"
	colBand   = "#56b4e9"
	colOrange = "#d55e00"
	colAmber  = "#e69f00"
	colGrey   = "#8a929b"
	colInk    = "#1a1a1a"
)

// FormatNumber writes v with decimals places in Persian digits and the Persian decimal
// separator («۴٫۲»); thousands get «٬».
func FormatNumber(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteRune('٬')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "٫" + frac
	}
	if neg {
		out = "−" + out
	}
	return survey.FormatPersianDigits(out)
}

// FormatCount writes a count in Persian digits with thousands separators («۱۲٬۳۴۵»).
func FormatCount(n int64) string { return FormatNumber(float64(n), 0) }

// NotEnough is what a figure below the minimum n shows.
const NotEnough = "داده کافی نیست"

// FormatEstimate writes an estimate as staff read it, «۴٫۲ (۴٫۰ تا ۴٫۴، ۳۱۲ نفر)», with the
// value scaled by scale (100 for shares) and a unit after it ("٪" for shares); an undefined one
// is «داده کافی نیست (۰ نفر)».
func FormatEstimate(e analytics.Estimate, decimals int, scale float64, unit string) string {
	if !e.Defined() {
		return NotEnough + " (" + FormatCount(e.N) + " نفر)"
	}
	f := func(p *float64) string { return FormatNumber(*p*scale, decimals) + unit }
	if !e.HasInterval() {
		return f(e.Value) + " (" + FormatCount(e.N) + " نفر)"
	}
	return f(e.Value) + " (" + f(e.Low) + " تا " + f(e.High) + "، " + FormatCount(e.N) + " نفر)"
}

// FormatJalaliDay writes a Tehran day with its month's name, «۲۴ آبان ۱۴۰۴».
func FormatJalaliDay(t time.Time) string {
	y, m, d, ok := analytics.JalaliDate(t)
	if !ok {
		return t.Format(survey.DayFormat)
	}
	return survey.FormatPersianDigits(fmt.Sprintf("%d %s %d", d, jalaliMonths[m-1], y))
}

// svgDoc wraps a chart's body in an <svg> with a viewBox, so it scales to its box.
func svgDoc(w, h int, label, tableID, body string) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" aria-describedby="%s" class="chart" font-family="Vazirmatn, Tahoma, sans-serif" font-size="12">%s</svg>`,
		w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(tableID), body))
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// f1 formats a coordinate.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// TrendSVG draws the trend of the per-citizen mean (1–5) with its 95% interval as a band;
// periods without citizens are gaps; points below the minimum n are hollow and grey. Time runs
// right to left (earliest on the right), as the page reads.
func TrendSVG(points []analytics.TrendPoint, minN int64, tableID string) template.HTML {
	const w, h, left, right, top, bottom = 640, 260, 16, 44, 14, 46
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	n := len(points)
	x := func(i int) float64 { // earliest on the right
		if n <= 1 {
			return float64(left) + pw/2
		}
		return float64(w-right) - pw*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return float64(top) + ph*(5-v)/4 }
	var b strings.Builder
	for v := 1; v <= 5; v++ { // grid and the axis on the right
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#d5d9de"/>`, left, w-right, f1(y(float64(v))), f1(y(float64(v))))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="start" dominant-baseline="middle" fill="%s">%s</text>`, w-right+6, f1(y(float64(v))), colInk, survey.FormatPersianDigits(strconv.Itoa(v)))
	}
	// The band and the line, run by run (a period without data breaks both).
	var runs [][]int
	var cur []int
	for i, p := range points {
		if p.Mean.Defined() && p.Mean.HasInterval() {
			cur = append(cur, i)
			continue
		}
		if len(cur) > 0 {
			runs = append(runs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	for _, r := range runs {
		var up, down, line []string
		for _, i := range r {
			p := points[i]
			up = append(up, f1(x(i))+","+f1(y(*p.Mean.High)))
			line = append(line, f1(x(i))+","+f1(y(*p.Mean.Value)))
		}
		for k := len(r) - 1; k >= 0; k-- {
			p := points[r[k]]
			down = append(down, f1(x(r[k]))+","+f1(y(*p.Mean.Low)))
		}
		if len(r) == 1 { // a lone period: a whisker instead of a band
			i := r[0]
			fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="6" stroke-opacity="0.45"/>`,
				f1(x(i)), f1(x(i)), f1(y(*points[i].Mean.Low)), f1(y(*points[i].Mean.High)), colBand)
			continue
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.35" stroke="none"/>`, strings.Join(append(up, down...), " "), colBand)
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(line, " "), colBlue)
	}
	step := max(1, (n+7)/8) // at most about eight labels
	for i, p := range points {
		if p.Mean.Defined() {
			fill, stroke := colBlue, colBlue
			if p.Mean.N < minN {
				fill, stroke = "#fff", colGrey
			}
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="4" fill="%s" stroke="%s" stroke-width="2"><title>%s: %s</title></circle>`,
				f1(x(i)), f1(y(*p.Mean.Value)), fill, stroke, esc(p.Label), esc(FormatEstimate(p.Mean, 1, 1, "")))
		}
		if (n-1-i)%step == 0 { // label back from the latest period
			fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="%s" font-size="11">%s</text>`, f1(x(i)), h-bottom+18, colInk, esc(p.Label))
		}
	}
	return svgDoc(w, h, "روند میانگین رضایت با بازهٔ اطمینان ۹۵٪؛ جدول زیر همین ارقام را دارد", tableID, b.String())
}

// Bar is one row of a horizontal bar chart with whiskers.
type Bar struct {
	Label string
	Est   analytics.Estimate
	// Enough is false below the minimum n: the bar is grey and says so.
	Enough bool
}

// BarsSVG draws each bar's value on lo…hi (the mean on 1–5, or a share on 0–1 with scale 100)
// as a horizontal bar growing from the right, with its interval as a whisker and a reference
// line at ref (NaN for none, e.g. the province median).
func BarsSVG(bars []Bar, lo, hi, ref float64, tableID, label string) template.HTML {
	const w, rowH, labelW, pad = 640, 34, 190, 12
	h := rowH*len(bars) + 30
	plotR, plotL := float64(w-labelW-pad), float64(pad+60)
	x := func(v float64) float64 { return plotR - (plotR-plotL)*(v-lo)/(hi-lo) } // grows leftwards
	var b strings.Builder
	for i, br := range bars {
		cy := float64(i*rowH + 20)
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="start" direction="rtl" dominant-baseline="middle" fill="%s">%s</text>`, w-pad, f1(cy), colInk, esc(truncate(br.Label, 26)))
		if !br.Est.Defined() {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="start" direction="rtl" dominant-baseline="middle" fill="%s">%s</text>`, f1(plotR), f1(cy), colGrey, NotEnough)
			continue
		}
		fill := colBlue
		if !br.Enough {
			fill = colGrey
		}
		v := *br.Est.Value
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="14" fill="%s" fill-opacity="0.8"><title>%s</title></rect>`,
			f1(x(v)), f1(cy-7), f1(math.Max(1, plotR-x(v))), fill, esc(br.Label))
		if br.Est.HasInterval() {
			l, r := x(*br.Est.High), x(*br.Est.Low)
			fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, f1(l), f1(r), f1(cy), f1(cy), colInk)
			fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/><line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`,
				f1(l), f1(l), f1(cy-6), f1(cy+6), colInk, f1(r), f1(r), f1(cy-6), f1(cy+6), colInk)
		}
		scale, dec := 1.0, 1
		if hi-lo <= 1 {
			scale, dec = 100, 0
		}
		txt := FormatNumber(v*scale, dec)
		if !br.Enough {
			txt += " — " + NotEnough
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="start" direction="rtl" dominant-baseline="middle" fill="%s" font-size="11">%s</text>`, f1(plotL-4), f1(cy), colInk, esc(txt))
	}
	if !math.IsNaN(ref) {
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="4" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="5 4"/>`, f1(x(ref)), f1(x(ref)), h-12, colOrange)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="%s" font-size="11">میانهٔ استان</text>`, f1(x(ref)), h-2, colOrange)
	}
	return svgDoc(w, h, label, tableID, b.String())
}

func truncate(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// WeekdaysFA are the days of the Iranian week, Saturday first.
var WeekdaysFA = [7]string{"شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"}

// HeatmapSVG draws citizens per hour (columns 0–23, right to left) and weekday (rows, Saturday
// first): darker blue is more. The table beside it holds the counts.
func HeatmapSVG(cells [7][24]int64, tableID string) template.HTML {
	const cell, labelW, top = 22, 70, 22
	w, h := labelW+24*cell+8, top+7*cell+8
	var maxN int64
	for _, row := range cells {
		for _, n := range row {
			maxN = max(maxN, n)
		}
	}
	var b strings.Builder
	for hr := 0; hr < 24; hr += 3 {
		x := float64(w-labelW) - float64(hr*cell) - cell/2.0
		fmt.Fprintf(&b, `<text x="%s" y="14" text-anchor="middle" font-size="10" fill="%s">%s</text>`, f1(x), colInk, survey.FormatPersianDigits(strconv.Itoa(hr)))
	}
	for d := 0; d < 7; d++ {
		y := top + d*cell
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="start" direction="rtl" dominant-baseline="middle" font-size="11" fill="%s">%s</text>`, w-4, y+cell/2, colInk, WeekdaysFA[d])
		for hr := 0; hr < 24; hr++ {
			n := cells[d][hr]
			op := 0.0
			if maxN > 0 {
				op = 0.08 + 0.92*float64(n)/float64(maxN)
			}
			x := w - labelW - (hr+1)*cell
			fill := colBlue
			if n == 0 {
				fill, op = "#eef0f3", 1
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" fill-opacity="%s" stroke="#fff"><title>%s، ساعت %s: %s نفر</title></rect>`,
				x, y, cell, cell, fill, strconv.FormatFloat(op, 'f', 2, 64), WeekdaysFA[d], survey.FormatPersianDigits(strconv.Itoa(hr)), FormatCount(n))
		}
	}
	return svgDoc(w, h, "نقشهٔ گرمایی پاسخ‌ها بر حسب روز هفته و ساعت؛ جدول همین ارقام را دارد", tableID, b.String())
}

// FunnelSVG draws the province's funnel plot: each agency's mean against its n (log scale, n
// growing to the right), the pooled mean, and the 95% and 99.8% limits. Agencies below the
// minimum n are hollow grey points. Points are numbered as the table's rows are.
func FunnelSVG(t analytics.ProvinceTable, tableID string) template.HTML {
	const w, h, left, right, top, bottom = 640, 320, 44, 16, 14, 40
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	var nMax int64 = 10
	yLo, yHi := 5.0, 1.0
	for _, p := range t.Funnel.Points {
		nMax = max(nMax, p.N)
		yLo, yHi = math.Min(yLo, p.Low998), math.Max(yHi, p.High998)
	}
	for _, a := range t.Agencies {
		if a.Mean.Defined() {
			nMax = max(nMax, a.Citizens)
			yLo, yHi = math.Min(yLo, *a.Mean.Value), math.Max(yHi, *a.Mean.Value)
		}
	}
	yLo, yHi = math.Max(1, math.Floor(yLo*2)/2-0.25), math.Min(5, math.Ceil(yHi*2)/2+0.25)
	if yHi-yLo < 0.5 {
		yLo, yHi = math.Max(1, yLo-0.5), math.Min(5, yHi+0.5)
	}
	lx := func(n int64) float64 {
		return float64(left) + pw*math.Log(float64(max(n, 1)))/math.Log(float64(nMax)*1.2)
	}
	y := func(v float64) float64 { return float64(top) + ph*(yHi-math.Max(yLo, math.Min(yHi, v)))/(yHi-yLo) }
	var b strings.Builder
	for v := math.Ceil(yLo*2) / 2; v <= yHi; v += 0.5 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#d5d9de"/><text x="%d" y="%s" text-anchor="end" dominant-baseline="middle" font-size="11">%s</text>`,
			left, w-right, f1(y(v)), f1(y(v)), left-4, f1(y(v)), FormatNumber(v, 1))
	}
	for _, n := range []int64{10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000} {
		if n > nMax {
			break
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" font-size="11">%s</text>`, f1(lx(n)), h-bottom+16, FormatCount(n))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" font-size="11">شمار شهروندان (مقیاس لگاریتمی)</text>`, f1(float64(left)+pw/2), h-4)
	if len(t.Funnel.Points) > 0 {
		curve := func(get func(analytics.ControlLimits) float64, colour, dash string) {
			var pts []string
			for _, p := range t.Funnel.Points {
				pts = append(pts, f1(lx(p.N))+","+f1(y(get(p))))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`, strings.Join(pts, " "), colour, dash)
		}
		curve(func(l analytics.ControlLimits) float64 { return l.Low95 }, colAmber, "6 3")
		curve(func(l analytics.ControlLimits) float64 { return l.High95 }, colAmber, "6 3")
		curve(func(l analytics.ControlLimits) float64 { return l.Low998 }, colOrange, "2 2")
		curve(func(l analytics.ControlLimits) float64 { return l.High998 }, colOrange, "2 2")
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`, left, w-right, f1(y(t.Funnel.Target)), f1(y(t.Funnel.Target)), colInk)
	}
	for i, a := range t.Agencies {
		if !a.Mean.Defined() {
			continue
		}
		fill, stroke := colBlue, colBlue
		if !a.Enough {
			fill, stroke = "#fff", colGrey
		}
		cx, cy := lx(a.Citizens), y(*a.Mean.Value)
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="5" fill="%s" fill-opacity="0.85" stroke="%s" stroke-width="1.5"><title>%s: %s</title></circle>`,
			f1(cx), f1(cy), fill, stroke, esc(a.Name), esc(FormatEstimate(a.Mean, 1, 1, "")))
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="10" fill="%s">%s</text>`, f1(cx+6), f1(cy-6), colInk, FormatCount(int64(i+1)))
	}
	return svgDoc(w, h, "نمودار قیفی: میانگین هر دستگاه در برابر شمار شهروندان، با حدود ۹۵٪ و ۹۹٫۸٪ پیرامون میانگین استان؛ جدول همین ارقام را دارد", tableID, b.String())
}
