// libFuzzer target `json`. Only the entry point: the checks are FuzzJSON in
// Tests/ConfabChatTests/Fuzz/FuzzJSON.swift, which Scripts/fuzz compiles
// with this file and the regression tests replay the corpus through.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzJSON.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("fuzz invariant: \(error)")
    }
    return 0
}
