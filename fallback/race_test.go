//go:build race

package fallback

// raceEnabled trims the slowest whole-network cases under the race
// detector (it makes the scalar kernels about ten times slower).
const raceEnabled = true
