/// Identifies a connection for its whole life: a slot index in the low 32 bits and
/// the slot's generation in the high 32, so a stale id never reaches a newer connection.
public typealias ConnectionID = UInt64
