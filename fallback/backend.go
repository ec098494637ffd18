package fallback

// useSIMD selects, at Compile, the AVX-512 kernels where the build and CPU
// have them; tests turn it off to run the pure-Go kernels on the same
// tables. Build with -tags noasm to leave the assembly out altogether.
var useSIMD = simdAvailable
