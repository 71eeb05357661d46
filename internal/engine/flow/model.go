package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Node types of a flow graph.
const (
	NodeStart     = "start"
	NodeApproval  = "approval"
	NodeCondition = "condition"
	NodeSplit     = "split"
	NodeJoin      = "join"
	NodeCC        = "cc"
	NodeAction    = "action"
	NodeEnd       = "end"
)

var nodeTypes = map[string]bool{NodeStart: true, NodeApproval: true, NodeCondition: true, NodeSplit: true,
	NodeJoin: true, NodeCC: true, NodeAction: true, NodeEnd: true}

// Approval modes.
const (
	ModeSingle     = "single"     // one approver decides
	ModeAny        = "any"        // 或签: the first of several to act decides
	ModeAll        = "all"        // 会签: every approver must approve
	ModeSequential = "sequential" // every approver, one after another in order
)

// Approver kinds: who an approval (or a CC) goes to.
const (
	ApproverUser         = "user"            // listed users
	ApproverRole         = "role"            // every active member of a role
	ApproverField        = "field"           // the user in a user field of the record
	ApproverManager      = "manager"         // the submitter's direct manager
	ApproverDeptHead     = "department_head" // the head of the submitter's department
	ApproverManagerChain = "manager_chain"   // N levels up the submitter's manager chain
)

// What an approval node does when no approver resolves.
const (
	EmptyAdmin = "admin" // the administrators get the task (the default)
	EmptySkip  = "skip"  // the node passes as if approved, and says so in the log
)

// Triggers of a definition.
const (
	TriggerSubmit = "submit"
	TriggerCreate = "create"
	TriggerUpdate = "update"
)

// Graph is a flow definition's graph as stored in the definition's graph
// field and frozen in each published version.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is one step of the graph. Config depends on Type (ApprovalConfig,
// CCConfig, ActionConfig; the others take none). Position is kept for the
// designer and means nothing to the engine.
type Node struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Name     string          `json:"name,omitempty"`
	Config   json.RawMessage `json:"config,omitempty"`
	Position json.RawMessage `json:"position,omitempty"`
}

// Label is the node's name, or its id when it has none.
func (n *Node) Label() string {
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

// Edge joins two nodes. Edges leaving a condition node carry a Condition
// (an expression over the record) or are its one Default branch.
type Edge struct {
	ID        string `json:"id,omitempty"`
	From      string `json:"from"`
	To        string `json:"to"`
	Condition string `json:"condition,omitempty"`
	Default   bool   `json:"default,omitempty"`
	Label     string `json:"label,omitempty"`
}

// ApprovalConfig configures an approval node.
type ApprovalConfig struct {
	Mode      string     `json:"mode"`
	Approvers []Approver `json:"approvers"`
	// OnEmpty: EmptyAdmin (default) or EmptySkip.
	OnEmpty string `json:"on_empty,omitempty"`
	// TimeLimitHours makes each task due that long after it is assigned.
	TimeLimitHours float64 `json:"time_limit_hours,omitempty"`
	// RemindBeforeHours sends the reminder that long before the due time
	// (0: at the due time).
	RemindBeforeHours float64 `json:"remind_before_hours,omitempty"`
	// Escalate hands an overdue task to the approver's manager.
	Escalate bool `json:"escalate,omitempty"`
}

// Approver says who gets a task (or a CC).
type Approver struct {
	Kind   string `json:"kind"`
	Users  IDList `json:"users,omitempty"`  // ApproverUser
	Role   string `json:"role,omitempty"`   // ApproverRole: the role's name
	Field  string `json:"field,omitempty"`  // ApproverField: a user field, owner or created_by
	Levels int    `json:"levels,omitempty"` // ApproverManagerChain: 1 to MaxLevels
}

// MaxLevels bounds a manager chain.
const MaxLevels = 10

// CCConfig configures a CC node.
type CCConfig struct {
	Recipients []Approver `json:"recipients"`
}

// ActionConfig configures an automatic action: the fields set on the
// record, in API form (as a PATCH body would carry them).
type ActionConfig struct {
	Set map[string]any `json:"set"`
}

// IDList is a list of record ids written as JSON strings or numbers.
type IDList []int64

// UnmarshalJSON accepts ["12", 13].
func (l *IDList) UnmarshalJSON(b []byte) error {
	var raw []json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var xs []any
	if err := dec.Decode(&xs); err != nil {
		return err
	}
	for _, x := range xs {
		switch v := x.(type) {
		case string:
			raw = append(raw, json.Number(v))
		case json.Number:
			raw = append(raw, v)
		default:
			return &jsonError{code: "flow_json_bad_id", args: []any{"value", fmt.Sprint(x)}, text: fmt.Sprintf("not an id: %v", x)}
		}
	}
	out := make(IDList, 0, len(raw))
	for _, n := range raw {
		id, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || id <= 0 {
			return &jsonError{code: "flow_json_bad_id", args: []any{"value", string(n)}, text: "not an id: " + string(n)}
		}
		out = append(out, id)
	}
	*l = out
	return nil
}

// MarshalJSON writes ids as strings, like every id in the API.
func (l IDList) MarshalJSON() ([]byte, error) {
	s := make([]string, len(l))
	for i, id := range l {
		s[i] = strconv.FormatInt(id, 10)
	}
	return json.Marshal(s)
}

// strictDecode decodes b into v refusing unknown keys; numbers in
// interface values stay json.Number (action values reach the records
// service as a request body would).
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	if dec.More() {
		return &jsonError{code: "flow_json_trailing", text: "unexpected data after the JSON value"}
	}
	return nil
}

// jsonError is a decoding problem a designer can act on, as a message
// code (flow_json_*) with its args; never Go type names.
type jsonError struct {
	code string
	args []any
	text string // in English, for logs
}

func (e *jsonError) Error() string { return e.text }

// cleanJSONError turns a decoding error into a jsonError.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return &jsonError{code: "flow_json_wrong_type", args: []any{"key", te.Field}, text: "wrong type for " + te.Field}
		}
		return &jsonError{code: "flow_json_wrong_type", args: []any{"key", "-"}, text: "wrong type"}
	case errors.As(err, &se):
		return &jsonError{code: "flow_json_syntax", args: []any{"offset", se.Offset}, text: fmt.Sprintf("syntax error at byte %d", se.Offset)}
	}
	var je *jsonError
	if errors.As(err, &je) {
		return je
	}
	msg := err.Error()
	if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		k = strings.Trim(k, `"`)
		return &jsonError{code: "flow_json_unknown_key", args: []any{"key", k}, text: "unknown key " + k}
	}
	return &jsonError{code: "flow_json_invalid", text: strings.TrimPrefix(msg, "json: ")}
}

// ParseGraph decodes a graph strictly (unknown keys are refused).
func ParseGraph(raw []byte) (*Graph, error) {
	var g Graph
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return &g, nil
	}
	if err := strictDecode(raw, &g); err != nil {
		return nil, err
	}
	return &g, nil
}
