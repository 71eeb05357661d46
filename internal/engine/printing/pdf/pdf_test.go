package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/engine/printing/lang"
	"github.com/tenon-crm/tenon/internal/engine/printing/pdftest"
)

func sample(lines int) *lang.Document {
	t := lang.Table{Widths: []float64{6, 30, 10, 14, 14}, Rows: []lang.Row{{Header: true, Cells: []lang.Cell{
		{Text: "序号", Colspan: 1}, {Text: "名称", Colspan: 1}, {Text: "数量", Colspan: 1, Align: lang.Right, AlignSet: true},
		{Text: "单价", Colspan: 1, Align: lang.Right, AlignSet: true}, {Text: "金额", Colspan: 1, Align: lang.Right, AlignSet: true}}}}}
	for i := range lines {
		t.Rows = append(t.Rows, lang.Row{Cells: []lang.Cell{
			{Text: fmt.Sprint(i + 1), Colspan: 1}, {Text: fmt.Sprintf("数控立式加工中心 VMC-%d（含第四轴、自动换刀装置 Automatic tool changer）", i), Colspan: 1},
			{Text: "2.00", Colspan: 1}, {Text: "¥1,000.00", Colspan: 1}, {Text: "¥2,000.00", Colspan: 1}}})
	}
	t.Rows = append(t.Rows, lang.Row{Cells: []lang.Cell{{Text: "合计", Colspan: 4, Align: lang.Right, AlignSet: true, Bold: true}, {Text: "¥12,345.67", Colspan: 1}}})
	return &lang.Document{Blocks: []lang.Block{
		lang.Heading{Level: 1, Align: lang.Center, Text: "报价单"},
		lang.Grid{Cols: 2, Items: []lang.KV{{Label: "客户", Value: "上海精工机械有限公司", Span: 1}, {Label: "报价单号", Value: "QT-202611-0001", Span: 1},
			{Label: "地址", Value: "上海市浦东新区张江高科技园区碧波路 690 号", Span: 2}}},
		t,
		lang.Paragraph{Text: "大写：壹万贰仟叁佰肆拾伍元陆角柒分", Bold: true},
		lang.Rule{},
		lang.Paragraph{Text: "备注：本报价含税（增值税 13%），有效期 30 天。\nPrices include 13% VAT; valid for 30 days. 😀"},
		lang.Signature{Parties: []lang.Party{{Title: "买方（盖章）", Text: "上海精工机械有限公司\n日期："}, {Title: "卖方（盖章）", Text: "日期："}}},
	}}
}

func logoPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 60, 30))
	for x := range 60 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 80, B: 160, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func TestRender(t *testing.T) {
	pdf, err := Render(context.Background(), sample(60), Page{Logo: logoPNG(), HeaderText: "上海天工机床有限公司\n电话 021-5555 0000", FooterText: "Tenon", Title: "QT-202611-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TENON_PRINT_SAMPLE") != "" {
		_ = os.WriteFile(os.Getenv("TENON_PRINT_SAMPLE"), pdf, 0o644)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	if len(pdf) > 150_000 {
		t.Errorf("the PDF has %d bytes: the font is not subset", len(pdf))
	}
	// pdftotext where installed (CI), and always the package's own reader,
	// which the PDF tests use on machines without it.
	builtin, err := pdftest.Extract(pdf)
	if err != nil {
		t.Fatal(err)
	}
	for reader, text := range map[string]string{"pdftest.Text": pdftest.Text(t, pdf), "pdftest.Extract": strings.ReplaceAll(builtin, " ", "")} {
		for _, want := range []string{"报价单", "上海精工机械有限公司", "QT-202611-0001", "壹万贰仟叁佰肆拾伍元陆角柒分", "上海天工机床有限公司",
			"VMC-0", "VMC-59", "Tenon第1页/共4页", "第4页/共4页", "Pricesinclude13%VAT", "买方（盖章）"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the text lacks %q", reader, want)
			}
		}
		// The header row is repeated on every page of the table (3 of 4).
		if n := strings.Count(text, "序号"); n != 3 {
			t.Errorf("%s: the header row appears %d times", reader, n)
		}
	}
}

func TestPageLimit(t *testing.T) {
	_, err := Render(context.Background(), sample(400), Page{MaxPages: 5})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != "print_too_many_pages" {
		t.Errorf("400 lines in 5 pages: %v", err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := Render(ctx, sample(10), Page{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past the deadline: %v", err)
	}
	if _, err := Render(context.Background(), sample(1), Page{Logo: []byte("<svg/>")}); !errors.Is(err, ErrBadImage) {
		t.Errorf("an SVG logo: %v", err)
	}
}

// TestConcurrent renders from many goroutines with the one parsed font
// (run with -race).
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := &lang.Document{Blocks: []lang.Block{lang.Paragraph{Text: fmt.Sprintf("并发 %d 测试", i)}}}
			if _, err := Render(context.Background(), doc, Page{Paper: "A5", Landscape: i%2 == 0}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestWrap(t *testing.T) {
	f, err := loadFace()
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{f: f}
	w := f.width("中", 10)
	for _, c := range []struct {
		s     string
		width float64
		want  []string
	}{
		{"中文中文中文", 3 * w, []string{"中文中", "文中文"}},
		{"中文，中文", 2 * w, []string{"中文，", "中文"}},
		{"hello world", f.width("hello wo", 10), []string{"hello", "world"}},
		{"a\nb", 100, []string{"a", "b"}},
		{"", 100, nil},
		{"abcdefgh", f.width("abc", 10), []string{"abc", "def", "gh"}},
	} {
		got := l.wrap(c.s, c.width, 10)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("wrap(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}
