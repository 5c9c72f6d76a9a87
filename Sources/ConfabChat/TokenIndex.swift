/// Sessions by resume token, keyed by a 64-bit digest of the token: an entry costs 16 bytes
/// instead of the token's 32 and the key's 8 (about 40 bytes a user at 10,000 users, with the
/// table's spare room). Every token registered here is drawn by `ChatCore.newToken`, which
/// draws again while `isTaken` says its digest is in use, so registered digests are unique.
/// A digest only names a candidate: `ChatCore.owner(of:)` compares the whole token with the
/// candidate session's, so a presented token is worth exactly what it was before.
struct TokenIndex {
    private var owners: [UInt64: SessionKey] = [:]

    var count: Int { owners.count }

    func candidate(for token: ResumeToken) -> SessionKey? { owners[token.digest] }

    func isTaken(_ token: ResumeToken) -> Bool { owners[token.digest] != nil }

    mutating func register(_ token: ResumeToken, for key: SessionKey) { owners[token.digest] = key }

    /// Forgets `key`'s token; an entry that is another session's stays.
    mutating func remove(_ token: ResumeToken, of key: SessionKey) {
        if owners[token.digest] == key { owners.removeValue(forKey: token.digest) }
    }
}
