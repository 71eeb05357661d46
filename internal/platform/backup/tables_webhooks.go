package backup

// webhooksTables declares the system tables of migration 8: the outbound
// allow-list of internal/platform/netguard (webhooks and their deliveries
// are records and are archived as such). See systemTables.
func webhooksTables() []tableDesc {
	i, j := TInt, TJSON
	return []tableDesc{
		{name: "outbound_settings", order: []string{"id"},
			columns: cols("id", i, "allow", j, "updated_at", i, "updated_by", i)},
	}
}
