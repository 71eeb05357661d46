package backup

// rulesTables declares the system tables of internal/engine/rules (see systemTables).
func rulesTables() []tableDesc {
	i, t, j := TInt, TText, TJSON
	return []tableDesc{
		{name: "rule_runs", serial: "id", order: []string{"id"},
			columns: cols("id", i, "rule_id", i, "entity", t, "record_id", i, "trigger_type", t, "outcome", t,
				"actions", j, "error", j, "duration_us", i, "depth", i, "job_id", i, "at", i)},
		{name: "rule_counters", order: []string{"rule_id", "name"},
			columns: cols("rule_id", i, "name", t, "value", i)},
		{name: "rule_marks", order: []string{"rule_id", "record_id", "mark"},
			columns: cols("rule_id", i, "record_id", i, "mark", t, "at", i)},
		{name: "rule_hook_hits", order: []string{"rule_id", "window_start"},
			columns: cols("rule_id", i, "window_start", i, "hits", i)},
	}
}
