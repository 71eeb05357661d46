package flow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// quotesEntity is a small entity for conditions, field approvers and
// automatic actions.
func quotesEntity() *meta.Entity {
	return &meta.Entity{Name: "quotes", TitleField: "name", Fields: []meta.Field{
		{Name: "name", Type: "text"},
		{Name: "amount", Type: "money"},
		{Name: "max_discount", Type: "percent"},
		{Name: "reviewer", Type: "user"},
		{Name: "region", Type: "text"},
		{Name: "state", Type: "select", Options: []meta.Option{{Value: "draft"}, {Value: "approved"}}},
		{Name: "total", Type: "formula", Expression: "amount"},
	}}
}

// g builds a graph from a compact description: nodes "id:type" (approval
// nodes get a manager approver unless cfg says otherwise), edges "a>b",
// "a>b?cond" or "a>b*" (default), each with the id "a-b".
func g(nodes []string, edges []string, cfg map[string]string) []byte {
	var ns []map[string]any
	for _, n := range nodes {
		id, typ, _ := strings.Cut(n, ":")
		node := map[string]any{"id": id, "type": typ, "name": strings.ToUpper(id)}
		if c, ok := cfg[id]; ok {
			node["config"] = json.RawMessage(c)
		} else if typ == NodeApproval {
			node["config"] = json.RawMessage(`{"mode": "single", "approvers": [{"kind": "manager"}]}`)
		}
		ns = append(ns, node)
	}
	var es []map[string]any
	for _, e := range edges {
		ed := map[string]any{}
		if i := strings.Index(e, "?"); i >= 0 {
			ed["condition"] = e[i+1:]
			e = e[:i]
		}
		if strings.HasSuffix(e, "*") {
			ed["default"] = true
			e = strings.TrimSuffix(e, "*")
		}
		from, to, _ := strings.Cut(e, ">")
		ed["id"], ed["from"], ed["to"] = from+"-"+to, from, to
		es = append(es, ed)
	}
	b, _ := json.Marshal(map[string]any{"nodes": ns, "edges": es})
	return b
}

func codes(errs []apperr.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code)
	}
	return out
}

// edgeProblems are the refusals reported under an edge's path (or, for
// the trigger condition, its field).
var edgeProblems = map[string]string{
	"condition on a plain edge":  "graph.edges.s-a",
	"branch without condition":   "graph.edges.c-a",
	"bad branch expression":      "graph.edges.c-a",
	"branch on an unknown field": "graph.edges.c-a",
	"edge to nowhere":            "graph.edges.a-zz",
	"bad trigger condition":      "condition",
}

func TestValidationRefusals(t *testing.T) {
	linear := []string{"s:start", "a:approval", "e:end"}
	for _, tc := range []struct {
		name      string
		graph     []byte
		condition string
		want      string // a code that must be among the errors; "" for a valid graph
		node      string // the node the error names, when it names one
	}{
		{"linear is valid", g(linear, []string{"s>a", "a>e"}, nil), "max_discount > 10", "", ""},
		{"empty graph", []byte(`{"nodes": [], "edges": []}`), "", "flow_missing_start", ""},
		{"missing start", g([]string{"a:approval", "e:end"}, []string{"a>e"}, nil), "", "flow_missing_start", ""},
		{"duplicate start", g([]string{"s:start", "s2:start", "a:approval", "e:end"}, []string{"s>a", "s2>a", "a>e"}, nil), "", "flow_duplicate_start", ""},
		{"missing end", g([]string{"s:start", "a:approval"}, []string{"s>a"}, nil), "", "flow_missing_end", ""},
		{"duplicate end", g([]string{"s:start", "c:condition", "e:end", "e2:end"}, []string{"s>c", "c>e?amount > 1", "c>e2*"}, nil), "", "flow_duplicate_end", ""},
		{"unreachable node", g([]string{"s:start", "a:approval", "b:approval", "e:end"}, []string{"s>a", "a>e", "b>e"}, nil), "", "flow_unreachable_node", "B"},
		{"loop with no exit", g([]string{"s:start", "c:condition", "a:approval", "b:approval", "e:end"},
			[]string{"s>c", "c>a?amount > 1", "c>e*", "a>b", "b>a"}, nil), "", "flow_no_exit", "A"},
		{"loop with an exit is fine", g([]string{"s:start", "a:approval", "c:condition", "e:end"},
			[]string{"s>a", "a>c", "c>a?amount > 100", "c>e*"}, nil), "", "", ""},
		{"approval with no approver", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"mode": "all", "approvers": []}`}), "", "flow_no_approver", "A"},
		{"approval config missing", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{}`}), "", "flow_no_approver", "A"},
		{"condition without default", g([]string{"s:start", "c:condition", "a:approval", "e:end"},
			[]string{"s>c", "c>a?amount > 1", "c>e?amount <= 1", "a>e"}, nil), "", "flow_no_default_branch", "C"},
		{"two defaults", g([]string{"s:start", "c:condition", "a:approval", "e:end"},
			[]string{"s>c", "c>a*", "c>e*", "a>e"}, nil), "", "flow_many_default_branches", "C"},
		{"branch without condition", g([]string{"s:start", "c:condition", "a:approval", "e:end"},
			[]string{"s>c", "c>a", "c>e*", "a>e"}, nil), "", "flow_missing_condition", "C"},
		{"bad branch expression", g([]string{"s:start", "c:condition", "a:approval", "e:end"},
			[]string{"s>c", "c>a?amount >", "c>e*", "a>e"}, nil), "", "flow_bad_expression", "C"},
		{"branch on an unknown field", g([]string{"s:start", "c:condition", "a:approval", "e:end"},
			[]string{"s>c", "c>a?nosuch > 1", "c>e*", "a>e"}, nil), "", "flow_bad_expression", "C"},
		{"condition on a plain edge", g(linear, []string{"s>a?amount > 1", "a>e"}, nil), "", "flow_condition_not_allowed", "S"},
		{"bad trigger condition", g(linear, []string{"s>a", "a>e"}, nil), "max_discount >>> 1", "flow_bad_condition", ""},
		{"join without split", g([]string{"s:start", "c:condition", "a:approval", "b:approval", "j:join", "e:end"},
			[]string{"s>c", "c>a?amount > 1", "c>b*", "a>j", "b>j", "j>e"}, nil), "", "flow_join_without_split", "J"},
		{"split without join", g([]string{"s:start", "p:split", "a:approval", "b:approval", "e:end"},
			[]string{"s>p", "p>a", "p>b", "a>e", "b>e"}, nil), "", "flow_split_without_join", "P"},
		{"edge into a branch from outside", g([]string{"s:start", "c:condition", "p:split", "a:approval", "b:approval", "j:join", "e:end"},
			[]string{"s>c", "c>p?amount > 1", "c>b*", "p>a", "p>b", "a>j", "b>j", "j>e"}, nil), "", "flow_parallel_crossing", "B"},
		{"branches meeting at two joins", g([]string{"s:start", "p:split", "a:approval", "b:approval", "j1:join", "j2:join", "e:end"},
			[]string{"s>p", "p>a", "p>b", "a>j1", "b>j2", "j1>j2", "j2>e"}, nil), "", "flow_parallel_crossing", "P"},
		{"split with one branch", g([]string{"s:start", "p:split", "a:approval", "e:end"}, []string{"s>p", "p>a", "a>e"}, nil), "", "flow_split_branches", "P"},
		{"unknown node type", g([]string{"s:start", "x:teleport", "e:end"}, []string{"s>x", "x>e"}, nil), "", "flow_unknown_node_type", "X"},
		{"edge to nowhere", g(linear, []string{"s>a", "a>e", "a>zz"}, nil), "", "flow_bad_edge", ""},
		{"two exits from an approval", g([]string{"s:start", "a:approval", "b:approval", "e:end"}, []string{"s>a", "a>b", "a>e", "b>e"}, nil), "", "flow_one_exit", "A"},
		{"approver field not a user", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "field", "field": "region"}]}`}), "", "flow_approver_not_user_field", "A"},
		{"approver field unknown", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "field", "field": "nosuch"}]}`}), "", "flow_approver_unknown_field", "A"},
		{"approver users missing", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "user"}]}`}), "", "flow_approver_no_users", "A"},
		{"approver role missing", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "role"}]}`}), "", "flow_approver_no_role", "A"},
		{"approver field missing", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "field"}]}`}), "", "flow_approver_no_field", "A"},
		{"cc recipient bad", g([]string{"s:start", "c:cc", "e:end"}, []string{"s>c", "c>e"}, map[string]string{"c": `{"recipients": [{"kind": "user"}]}`}), "", "flow_approver_no_users", "C"},
		{"config on a start node", g(linear, []string{"s>a", "a>e"}, map[string]string{"s": `{"x": 1}`}), "", "flow_config_not_allowed", "S"},
		{"bad user id in a list", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "user", "users": ["x"]}]}`}), "", "flow_bad_config", "A"},
		{"unknown approver kind", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "boss"}]}`}), "", "flow_approver_unknown_kind", "A"},
		{"manager chain too long", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "manager_chain", "levels": 11}]}`}), "", "flow_approver_bad_levels", "A"},
		{"bad mode", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"mode": "most", "approvers": [{"kind": "manager"}]}`}), "", "flow_bad_mode", "A"},
		{"unknown config key", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "manager"}], "colour": "red"}`}), "", "flow_bad_config", "A"},
		{"reminder after the limit", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "manager"}], "time_limit_hours": 4, "remind_before_hours": 5}`}), "", "flow_bad_time_limit", "A"},
		{"escalation without a limit", g(linear, []string{"s>a", "a>e"}, map[string]string{"a": `{"approvers": [{"kind": "manager"}], "escalate": true}`}), "", "flow_bad_time_limit", "A"},
		{"cc with no one", g([]string{"s:start", "c:cc", "e:end"}, []string{"s>c", "c>e"}, map[string]string{"c": `{"recipients": []}`}), "", "flow_no_recipient", "C"},
		{"action on a formula", g([]string{"s:start", "x:action", "e:end"}, []string{"s>x", "x>e"}, map[string]string{"x": `{"set": {"total": "1"}}`}), "", "flow_bad_action_field", "X"},
		{"action with a bad value", g([]string{"s:start", "x:action", "e:end"}, []string{"s>x", "x>e"}, map[string]string{"x": `{"set": {"state": "lost"}}`}), "", "flow_bad_action_value", "X"},
		{"action setting nothing", g([]string{"s:start", "x:action", "e:end"}, []string{"s>x", "x>e"}, map[string]string{"x": `{"set": {}}`}), "", "flow_no_fields", "X"},
		{"malformed graph", []byte(`{"nodes": 3}`), "", "flow_bad_graph", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := compileDefinition(meta.DefaultTypes(), definitionInput{Entity: quotesEntity(), EntityRaw: "quotes",
				Trigger: TriggerSubmit, Condition: tc.condition, Graph: tc.graph})
			for _, e := range errs {
				if !i18n.Has(e.Code) {
					t.Errorf("code %s has no message", e.Code)
				}
			}
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("valid graph refused: %v", errs)
				}
				return
			}
			i := slices.IndexFunc(errs, func(e apperr.FieldError) bool { return e.Code == tc.want })
			if i < 0 {
				t.Fatalf("want %s, got %v", tc.want, codes(errs))
			}
			if tc.node != "" && fmt.Sprint(errs[i].Args["node"]) != tc.node {
				t.Fatalf("%s names %v, want %s", tc.want, errs[i].Args["node"], tc.node)
			}
			// Where the problem is: the edge's or the node's path.
			field, ok := edgeProblems[tc.name]
			switch {
			case ok:
			case tc.node != "":
				field = "graph.nodes." + strings.ToLower(tc.node)
			default:
				field = "graph"
			}
			if errs[i].Field != field {
				t.Fatalf("%s is reported under %q, want %q", tc.want, errs[i].Field, field)
			}
		})
	}
}

// TestProblemPaths: an edge without an id, and a node without one, are
// named by their position.
func TestProblemPaths(t *testing.T) {
	raw := []byte(`{"nodes": [{"id": "s", "type": "start"}, {"id": "", "type": "approval"}, {"id": "c", "type": "condition"},
		{"id": "e", "type": "end"}], "edges": [{"from": "s", "to": "c"}, {"from": "c", "to": "e", "default": true}, {"from": "c", "to": "zz"}]}`)
	_, errs := compileDefinition(meta.DefaultTypes(), definitionInput{Entity: quotesEntity(), EntityRaw: "quotes", Trigger: TriggerSubmit, Graph: raw})
	got := map[string]string{}
	for _, e := range errs {
		got[e.Code] = e.Field
	}
	if got["flow_bad_node_id"] != "graph.nodes[1]" || got["flow_bad_edge"] != "graph.edges[2]" {
		t.Fatalf("got %v", got)
	}
}

// TestReasonsTranslated: the reasons inside messages are rendered in the
// caller's language, not in English.
func TestReasonsTranslated(t *testing.T) {
	linear := []string{"s:start", "a:approval", "e:end"}
	for _, tc := range []struct {
		cfg    string
		zh, en string
	}{
		{`{"approvers": [{"kind": "user"}]}`, "节点「A」的审批人设置无效：没有选择用户", "Node “A” has an invalid approver: no users are chosen"},
		{`{"approvers": [{"kind": "field", "field": "region"}]}`, "字段 region 不是用户字段", "field region is not a user field"},
		{`{"approvers": [{"kind": "manager"}], "colour": "red"}`, "节点「A」的配置无效：未知的键 colour", "Invalid configuration of node “A”: unknown key colour"},
		{`{"approvers": [{"kind": "manager"}], "mode": 3}`, "mode 的类型错误", "wrong type for mode"},
		{`{"approvers": [{"kind": "user", "users": ["x"]}]}`, "x 不是有效的编号", "x is not an id"},
	} {
		_, errs := compileDefinition(meta.DefaultTypes(), definitionInput{Entity: quotesEntity(), EntityRaw: "quotes", Trigger: TriggerSubmit,
			Graph: g(linear, []string{"s>a", "a>e"}, map[string]string{"a": tc.cfg})})
		if len(errs) != 1 {
			t.Fatalf("%s: %v", tc.cfg, errs)
		}
		zh, en := i18n.Message(i18n.ZH, errs[0].Code, errs[0].Args), i18n.Message(i18n.EN, errs[0].Code, errs[0].Args)
		if !strings.Contains(zh, tc.zh) || !strings.Contains(en, tc.en) {
			t.Errorf("%s: %q / %q", tc.cfg, zh, en)
		}
	}
	// An action's value error carries the field type's code, translated.
	_, errs := compileDefinition(meta.DefaultTypes(), definitionInput{Entity: quotesEntity(), EntityRaw: "quotes", Trigger: TriggerSubmit,
		Graph: g([]string{"s:start", "x:action", "e:end"}, []string{"s>x", "x>e"}, map[string]string{"x": `{"set": {"amount": "lots"}}`})})
	if len(errs) != 1 || strings.Contains(i18n.Message(i18n.ZH, errs[0].Code, errs[0].Args), "not_") {
		t.Fatalf("%v %q", errs, i18n.Message(i18n.ZH, errs[0].Code, errs[0].Args))
	}
}

func TestUnknownEntity(t *testing.T) {
	_, errs := compileDefinition(meta.DefaultTypes(), definitionInput{EntityRaw: "nosuch", Trigger: TriggerSubmit,
		Graph: g([]string{"s:start", "e:end"}, []string{"s>e"}, nil)})
	if !slices.Contains(codes(errs), "flow_unknown_entity") {
		t.Fatalf("got %v", codes(errs))
	}
}

// TestParallelStructure: nested splits find their joins, and the nodes
// inside branches are known (they cannot be rejection targets).
func TestParallelStructure(t *testing.T) {
	graph := g([]string{"s:start", "a:approval", "p:split", "b:approval", "q:split", "c:approval", "d:approval", "k:join",
		"f:approval", "j:join", "x:condition", "e:end"},
		[]string{"s>a", "a>p", "p>b", "p>q", "q>c", "q>d", "c>k", "d>k", "k>j", "b>f", "f>j", "j>x", "x>a?amount > 1000000", "x>e*"}, nil)
	c, errs := compileDefinition(meta.DefaultTypes(), definitionInput{Entity: quotesEntity(), EntityRaw: "quotes", Trigger: TriggerSubmit, Graph: graph})
	if len(errs) > 0 {
		t.Fatalf("refused: %v", errs)
	}
	if c.joinOf["p"] != "j" || c.joinOf["q"] != "k" {
		t.Fatalf("joins: %v", c.joinOf)
	}
	for _, n := range []string{"b", "c", "d", "f", "q", "k"} {
		if !c.parallel[n] {
			t.Errorf("%s should be inside a branch", n)
		}
	}
	for _, n := range []string{"a", "x", "s", "e", "p", "j"} {
		if c.parallel[n] {
			t.Errorf("%s should be outside the branches", n)
		}
	}
}

// TestIDListAcceptsStringsAndNumbers: approver user lists take ids as
// strings (as the API writes them) or numbers.
func TestIDListAcceptsStringsAndNumbers(t *testing.T) {
	var l IDList
	if err := json.Unmarshal([]byte(`["12", 13]`), &l); err != nil || len(l) != 2 || l[0] != 12 || l[1] != 13 {
		t.Fatalf("%v %v", l, err)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &l); err == nil {
		t.Fatal("accepted a bad id")
	}
	b, _ := json.Marshal(IDList{5})
	if string(b) != `["5"]` {
		t.Fatalf("%s", b)
	}
}
