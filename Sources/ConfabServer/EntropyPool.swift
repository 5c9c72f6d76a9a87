import Glibc

/// The chat machine's random source: the kernel's CSPRNG (`getentropy`, i.e. getrandom),
/// read 256 bytes at a time. `SystemRandomNumberGenerator` makes one syscall per 8 bytes, and
/// a session's name and resume token take ~7 of them: a third of a handshake's syscalls
/// (issue 11). A class, so copies of the machine draw from one pool and never repeat a word;
/// each word is zeroed once handed out.
struct EntropyPool: RandomNumberGenerator {
    private final class Words {
        var words = [UInt64](repeating: 0, count: 32)
        var next = 32
    }

    private let pool = Words()

    mutating func next() -> UInt64 {
        let pool = self.pool
        if pool.next == pool.words.count {
            let filled = pool.words.withUnsafeMutableBytes { getentropy($0.baseAddress, $0.count) == 0 }
            guard filled else {
                // Not expected (256 bytes is getentropy's maximum, and getrandom does not fail
                // once seeded); the system generator stops the process itself if it fails.
                var system = SystemRandomNumberGenerator()
                return system.next()
            }
            pool.next = 0
        }
        let word = pool.words[pool.next]
        pool.words[pool.next] = 0
        pool.next += 1
        return word
    }
}
