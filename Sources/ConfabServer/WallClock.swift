import Glibc

/// Wall-clock time for the chat's timestamps (the reactor's loop time is monotonic).
enum WallClock {
    static func unixMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The local time zone's offset from UTC now, for clock times shown to line users.
    static func utcOffsetSeconds() -> Int {
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        return local.tm_gmtoff
    }
}
