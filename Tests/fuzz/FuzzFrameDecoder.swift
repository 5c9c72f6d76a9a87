// libFuzzer target `frames`. Only the entry point: the checks are FuzzFrames in
// Tests/ConfabCodecTests/Fuzz/FuzzFrames.swift, which Scripts/fuzz compiles
// with this file and the regression tests replay the corpus through.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzFrames.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("fuzz invariant: \(error)")
    }
    return 0
}
