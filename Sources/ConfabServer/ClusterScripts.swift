/// The Lua scripts behind the cluster's effects. A script runs atomically in Redis, so what
/// it numbers, stores and publishes happens in one order for every node.
struct ClusterScripts {
    let source: String

    /// EVAL with the given keys and arguments.
    func call(keys: [String], arguments: [[UInt8]]) -> [[UInt8]] {
        [Array("EVAL".utf8), Array(source.utf8), Array(String(keys.count).utf8)] + keys.map { Array($0.utf8) } + arguments
    }

    /// KEYS: seq, history. ARGV: the message up to `"seq":`, the least seq it may get, the
    /// history size, the bus channel. Returns the seq.
    static let post = ClusterScripts(source: """
        local seq = redis.call('INCR', KEYS[1])
        local floor = tonumber(ARGV[2])
        if seq < floor then
          seq = floor
          redis.call('SET', KEYS[1], seq)
        end
        local message = ARGV[1] .. string.format('%d', seq) .. '}'
        local keep = tonumber(ARGV[3])
        if keep > 0 then
          redis.call('RPUSH', KEYS[2], message)
          redis.call('LTRIM', KEYS[2], -keep, -1)
        end
        redis.call('PUBLISH', ARGV[4], message)
        return seq
        """)

    /// KEYS: seq. ARGV: the least value it may hold.
    static let raiseSeq = ClusterScripts(source: """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 0
        """)

    /// KEYS: seq, history. ARGV: the last seq the asking node saw. Keeps the room when a
    /// message was numbered after that: someone is using it again.
    static let forgetRoom = ClusterScripts(source: """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current <= tonumber(ARGV[1]) then
          redis.call('DEL', KEYS[1], KEYS[2])
          return 1
        end
        return 0
        """)
}
