package backup

// inboundTables declares the system tables of internal/engine/inbound (see systemTables).
func inboundTables() []tableDesc {
	i, t, j := TInt, TText, TJSON
	return []tableDesc{
		{name: "inbound_calls", serial: "id", order: []string{"id"},
			columns: cols("id", i, "endpoint_id", i, "at", i, "status", i, "items", i, "created", i, "updated", i,
				"error", j, "remote_addr", t, "body_bytes", i, "duration_us", i)},
		{name: "inbound_signatures", order: []string{"endpoint_id", "signature"},
			columns: cols("endpoint_id", i, "signature", t, "expires_at", i)},
		{name: "inbound_hits", order: []string{"bucket", "window_start"},
			columns: cols("bucket", t, "window_start", i, "hits", i)},
	}
}
