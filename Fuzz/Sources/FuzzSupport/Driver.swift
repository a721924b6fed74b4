// The process entry point of every harness. SwiftPM links an executable target on Linux with
// `--defsym main=<Target>_main`, so libFuzzer's own `main` is not used; instead each harness's
// main.swift hands its LLVMFuzzerTestOneInput to libFuzzer's LLVMFuzzerRunDriver (LLVM 11+),
// which parses the usual libFuzzer flags (-runs=, -max_total_time=, corpus directories).

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: FuzzCallback) -> Int32

/// Runs libFuzzer with the process's arguments; returns its exit status.
public func runFuzzer(_ callback: FuzzCallback) -> Int32 {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
