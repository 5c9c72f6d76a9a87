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

    /// KEYS: tokens, tokenOf. ARGV: token, user id. The user's previous token is void.
    static let storeToken = ClusterScripts(source: """
        local old = redis.call('HGET', KEYS[2], ARGV[2])
        if old then redis.call('HDEL', KEYS[1], old) end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
        return 0
        """)

    /// KEYS: tokens, tokenOf. ARGV: user id.
    static let dropToken = ClusterScripts(source: """
        local old = redis.call('HGET', KEYS[2], ARGV[1])
        if old then redis.call('HDEL', KEYS[1], old) end
        redis.call('HDEL', KEYS[2], ARGV[1])
        return 0
        """)

    /// KEYS: nodes. ARGV: this node, the node timeout in ms, the bus channel. Beats for this
    /// node on Redis's clock (one clock for every host) and announces, once, each node
    /// silent for the timeout. Returns the nodes declared dead.
    static let heartbeat = ClusterScripts(source: """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        for _, node in ipairs(dead) do
          redis.call('ZREM', KEYS[1], node)
          redis.call('PUBLISH', ARGV[3], '{"t":"down","n":"' .. node .. '"}')
        end
        return dead
        """)

    /// KEYS: names, accountNames. ARGV: name key, user id, "1" to re-claim after an outage,
    /// "1" for an account's own name. Returns {1} when the user holds the name now, {0} when
    /// another does, {1, displaced holder} when it was taken from someone: an account takes
    /// its name from a holder that is not an account; on a re-claim the lesser user id wins
    /// (an account's name stays with the account). An account's name is marked in
    /// accountNames, so it is never given to anyone else, even while the account is away.
    static let claimName = ClusterScripts(source: """
        local account = redis.call('HGET', KEYS[2], ARGV[1])
        if account and account ~= ARGV[2] then return {0} end
        local holder = redis.call('HGET', KEYS[1], ARGV[1])
        local displaced = nil
        if holder and holder ~= ARGV[2] then
          if ARGV[4] == '1' or (ARGV[3] == '1' and ARGV[2] < holder) then displaced = holder else return {0} end
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        if ARGV[4] == '1' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
        if displaced then return {1, displaced} end
        return {1}
        """)

    /// KEYS: names, accountNames. ARGV: name key, user id. Only the holder lets a name go
    /// (an account renamed with `auth.allowRename` gives its old one up).
    static let releaseName = ClusterScripts(source: """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
        return 0
        """)
}
