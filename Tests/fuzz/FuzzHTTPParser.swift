// libFuzzer target `http`. Only the entry point: the checks are FuzzHTTP in
// Tests/ConfabCodecTests/Fuzz/FuzzHTTP.swift, which Scripts/fuzz compiles
// with this file and the regression tests replay the corpus through.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzHTTP.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("fuzz invariant: \(error)")
    }
    return 0
}
