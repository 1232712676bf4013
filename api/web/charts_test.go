package web_test

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
)

func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
}

func TestFormatNumbers(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	for got, want := range map[string]string{
		web.FormatNumber(4.25, 1):  "۴٫۲",
		web.FormatNumber(12345, 0): "۱۲٬۳۴۵",
		web.FormatNumber(-0.5, 1):  "−۰٫۵",
		web.FormatCount(1000000):   "۱٬۰۰۰٬۰۰۰",
		web.FormatEstimate(analytics.Estimate{Value: v(4.2), Low: v(4.0), High: v(4.4), N: 312}, 1, 1, ""):    "۴٫۲ (۴٫۰ تا ۴٫۴، ۳۱۲ نفر)",
		web.FormatEstimate(analytics.Estimate{Value: v(0.61), Low: v(0.5), High: v(0.7), N: 40}, 0, 100, "٪"): "۶۱٪ (۵۰٪ تا ۷۰٪، ۴۰ نفر)",
		web.FormatEstimate(analytics.Estimate{}, 1, 1, ""):                                                    "داده کافی نیست (۰ نفر)",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestHeatmapSVG: seven rows, Saturday first, 24 hours each, the busiest cell darkest.
func TestHeatmapSVG(t *testing.T) {
	var cells [7][24]int64
	cells[0][9] = 10 // Saturday 09:00
	cells[6][20] = 1 // Friday 20:00
	svg := string(web.HeatmapSVG(cells, "heatmap-table"))
	wellFormed(t, svg)
	if n := strings.Count(svg, "<rect "); n != 7*24 {
		t.Fatalf("%d cells", n)
	}
	sat, fri := strings.Index(svg, ">شنبه<"), strings.Index(svg, ">جمعه<")
	if sat < 0 || fri < 0 || sat > fri {
		t.Fatal("Saturday must be the first row, Friday the last")
	}
	if !strings.Contains(svg, `fill="#0072b2" fill-opacity="1.00" stroke="#fff"><title>شنبه، ساعت ۹: ۱۰ نفر</title>`) {
		t.Error("the busiest cell is not the darkest")
	}
}

func TestChartsWellFormed(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	e := analytics.Estimate{Value: v(3.5), Low: v(3.2), High: v(3.8), N: 50}
	pts := []analytics.TrendPoint{{Period: analytics.Period{Label: "مهر <۱۴۰۵>", Key: "1405-07"}, Mean: e},
		{Period: analytics.Period{Label: "آبان", Key: "1405-08"}}, {Period: analytics.Period{Label: "آذر", Key: "1405-09"}, Mean: e}}
	wellFormed(t, string(web.TrendSVG(pts, 30, "t")))
	wellFormed(t, string(web.TrendSVG(nil, 30, "t")))
	wellFormed(t, string(web.BarsSVG([]web.Bar{{Label: "دفتر & مرکزی", Est: e, Enough: true}, {Label: "بی‌داده"}}, 1, 5, 3.3, "b", "نمودار")))
	wellFormed(t, string(web.BarsSVG(nil, 0, 1, math.NaN(), "b", "نمودار")))
	tb := analytics.ProvinceTable{Agencies: []analytics.AgencyRow{{Name: "الف", Figures: analytics.Figures{Citizens: 50, Mean: e, Enough: true}}},
		Funnel: analytics.MeanFunnel(3.4, 1, analytics.FunnelGrid(5, 100, 10))}
	svg := string(web.FunnelSVG(tb, "p"))
	wellFormed(t, svg)
	if strings.Count(svg, "<polyline") != 4 || strings.Count(svg, "<circle") != 1 {
		t.Errorf("funnel: want four limit curves and one point: %s", svg)
	}
}
