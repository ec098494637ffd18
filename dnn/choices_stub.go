//go:build !cgo || purego

package dnn

// Choices returns nil: this build has no oneDNN backend.
func Choices() []Choice { return nil }

// PutChoices does nothing: this build has no oneDNN backend.
func PutChoices([]Choice) error { return nil }

// ResetChoices does nothing: this build has no oneDNN backend.
func ResetChoices() {}
