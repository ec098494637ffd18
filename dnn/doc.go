// Package dnn runs chains of CNN layers (convolutions, squeeze-excite,
// pooling, fully connected, softmax) on oneDNN through cgo. It is the only
// package of the module that imports "C"; the C side is the small library in
// ../csrc (see csrc/lcn.h).
//
// Use:
//
//	plan, err := dnn.Compile(net, dnn.Options{Threads: 1}) // weights packed into C memory once
//	inst, err := plan.NewInstance()                        // activations, scratchpad, worker thread
//	err = inst.Run(in, batch, out)                         // one cgo call per inference
//	inst.Close(); plan.Close()
//
// A Plan is immutable and shared: several Instances of one Plan can run at
// the same time on different goroutines. An Instance runs one inference at a
// time (concurrent Run calls on one Instance are serialised). Each Instance
// owns an OS thread (a goroutine locked with runtime.LockOSThread) on which
// its oneDNN primitives are both created and executed with Options.Threads
// OpenMP threads: oneDNN bakes the thread count into a primitive, and
// libgomp keeps one thread pool per calling OS thread.
//
// Speed: activations use the layouts oneDNN picks (NHWC here), the input is
// converted from NCHW while it is copied in, weights are reordered once by
// Compile and shared by all Instances, depthwise convolutions use the
// fastest of the kernels that keep the layout (timed once by Compile, a few
// tens of milliseconds), activations, the 0.8 dropout scale and other
// activation/scale layers right after a convolution or FC run as fused
// post-ops, and small memory-bound steps (pooling, the SE multiply,
// softmax) run on one thread even when Options.Threads is larger. Each
// batch size gets its own primitives and buffers, built by the first Run
// with that size and kept until Close. A batch of a network that ends in a
// global average pool followed by per-channel layers (1x1 convs on 1x1,
// FC, softmax) runs image by image up to the pool, where the activations
// of one image stay in cache, and as one batch after it, where the n pooled
// vectors are the n pixels of one image so that each weight of the head is
// read once per batch (x1.0, batch 8: ~20% less time per image than batch 1).
//
// OpenMP: libgomp keeps a thread pool per OS thread that ran a parallel
// region, and once the process has more OpenMP threads than cores it stops
// spinning between parallel regions, which made two-thread inference about
// 2x slower in a measurement. Compile therefore builds on a throw-away OS
// thread that frees its pool (omp_pause_resource) before Compile returns,
// and an Instance's thread frees its pool at Close and then ends. Waiting
// for the thread's exit to free the pool was not enough: the exit often
// came after the next Instance had started, and the 2-thread runs of about
// half the processes were then 2x slower for good. Several
// live Instances with Threads > 1 still oversubscribe the cores: for
// throughput use one Threads: 1 Instance per core.
//
// Memory: everything oneDNN sees is 64-byte-aligned C memory owned by this
// package. Go slices are only read or written during a call and never kept.
// Plans and Instances must be closed; a cleanup (runtime.AddCleanup) frees a
// leaked one and counts it in LeakedHandles. LiveHandles counts the C
// objects alive, for leak tests.
//
// Build tags: without cgo, or with the purego tag, the package still builds;
// Available reports false and Compile returns ErrUnavailable.
//
// After editing ../csrc, run "go generate ./dnn": Go's build cache does not
// track C files outside the package directory, so csrc.c carries a hash of
// them (TestCsrcStamp fails when it is stale).
package dnn

//go:generate go run gen_csrc.go
