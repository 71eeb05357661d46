package backup

// flowTables declares the system tables of internal/engine/flow (see systemTables).
func flowTables() []tableDesc {
	i, t, j := TInt, TText, TJSON
	return []tableDesc{
		{name: "flow_versions", serial: "id", order: []string{"id"},
			columns: cols("id", i, "definition_id", i, "version", i, "entity", t, "name", t, "trigger_kind", t, "condition_src", t,
				"graph", j, "published_at", i, "published_by", i)},
		{name: "flow_instances", serial: "id", order: []string{"id"},
			columns: cols("id", i, "definition_id", i, "version_id", i, "version", i, "name", t, "entity", t, "record_id", i,
				"title", t, "status", t, "submitter", i, "state", j, "started_at", i, "updated_at", i, "ended_at", i)},
		{name: "flow_tasks", serial: "id", order: []string{"id"},
			columns: cols("id", i, "instance_id", i, "token", i, "node_id", t, "node_name", t, "kind", t, "assignee", i,
				"status", t, "seq", i, "origin", t, "added_by", i, "from_task", i, "created_at", i, "due_at", i,
				"acted_at", i, "comment", t, "attachments", j)},
		{name: "flow_steps", serial: "id", order: []string{"id"},
			columns: cols("id", i, "instance_id", i, "task_id", i, "node_id", t, "node_name", t, "kind", t, "actor", i,
				"comment", t, "attachments", j, "data", j, "at", i)},
	}
}
