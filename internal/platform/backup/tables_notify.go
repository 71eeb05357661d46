package backup

// notifyTables declares the system tables of internal/platform/notify (see systemTables).
func notifyTables() []tableDesc {
	i, t, b := TInt, TText, TBool
	return []tableDesc{
		{name: "notifications", serial: "id", order: []string{"id"},
			columns: cols("id", i, "recipient", i, "kind", t, "title", t, "body", t, "entity", t, "record_id", i,
				"actor", i, "created_at", i, "read_at", i)},
		{name: "notify_preferences", order: []string{"user_id", "kind"},
			columns: cols("user_id", i, "kind", t, "in_app", b, "email", b, "updated_at", i)},
		{name: "notify_settings", order: []string{"id"},
			columns: cols("id", i, "email_enabled", b, "smtp_host", t, "smtp_port", i, "smtp_username", t,
				"smtp_password", t, "smtp_tls", t, "smtp_ca", t, "from_address", t, "from_name", t, "base_url", t,
				"robots_allow_private", b, "updated_at", i, "updated_by", i)},
		{name: "notify_channel_secrets", order: []string{"channel_id"},
			columns: cols("channel_id", i, "secret", t, "updated_at", i)},
	}
}
