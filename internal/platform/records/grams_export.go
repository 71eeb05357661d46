package records

// Grams returns the distinct full-text index terms of an already-lowercased
// search text, exactly as the records service indexes it (restore rebuilds
// the index from the stored search text with it).
func Grams(text string) []string { return grams(text) }
