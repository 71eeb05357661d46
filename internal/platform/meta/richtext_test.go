package meta

import (
	"strings"
	"testing"
)

func TestRichTextSanitised(t *testing.T) {
	f := &Field{Name: "notes", Type: "rich_text"}
	rt := DefaultTypes()["rich_text"]
	for _, c := range []struct{ in, want string }{
		{`<p>交期 <strong>两周</strong></p>`, `<p>交期 <strong>两周</strong></p>`},
		{`<p onclick="x()">a<script>alert(1)</script></p>`, `<p>a</p>`},
		{`<img src=x onerror=alert(1)>ok`, `ok`},
		{`<img src="/api/v1/files/AbCdEfGhIjKl" alt="图纸">`, `<img src="/api/v1/files/AbCdEfGhIjKl" alt="图纸">`},
		{`<img src="https://evil.example/t.png">`, ``},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<a href="https://tenon.dev/x">手册</a>`, `<a href="https://tenon.dev/x" rel="nofollow noopener" target="_blank">手册</a>`},
		{`<p style="color:red">红</p><iframe src="https://x"></iframe><form><input></form>`, `<p>红</p>`},
		{`<ul><li>一</li><li>二</li></ul>`, `<ul><li>一</li><li>二</li></ul>`},
		{`<p> </p><script>x</script>`, ``},
	} {
		got, err := rt.Normalize(f, c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		gs, _ := got.(string)
		if gs != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, gs, c.want)
		}
	}
	if txt := rt.Text(f, `<h2>规格</h2><p>功率 &lt;5kW&gt;</p><ul><li>A</li><li>B</li></ul>`); txt != "规格\n功率 <5kW>\nA\nB" {
		t.Errorf("text %q", txt)
	}
	if _, err := rt.Normalize(f, strings.Repeat("<p>x</p>", 1)); err != nil {
		t.Fatal(err)
	}
}
