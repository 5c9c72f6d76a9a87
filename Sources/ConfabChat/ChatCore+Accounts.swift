import ConfabCodec
import ConfabProtocol

/// Accounts (a verified token's `sub`, `name` and `rooms`): which session a connection
/// continues, where a restricted account starts, and names that belong to accounts.
extension ChatCore {
    /// The session a new connection continues, if any. An account continues its own session
    /// whatever resume token it shows (one session per account: the newest connection takes it
    /// over, the older one is closed with 4000). A resume token continues only an anonymous
    /// session, for an anonymous connection: it never turns one kind of user into the other.
    func continuedSession(_ request: ConnectRequest) -> SessionKey? {
        // In a cluster the account's session may be another node's (listed under its id).
        if let account = request.account { return accountSessions[account.id] ?? cluster?.users[account.id] }
        guard let token = request.resumeToken.flatMap(ResumeToken.init), let key = tokenOwners[token],
              sessions[key] != nil, accounts[key] == nil else { return nil }
        return key
    }

    /// Where an account with a `rooms` list starts when the home room is not on it: the first
    /// listed room it can enter now. nil: the home room, as for everyone else.
    func startRoom(for account: Account) -> Result<String?, ChatError> {
        guard let listed = account.rooms, let home = rooms[homeRoom], !account.mayJoin(home.name) else {
            return .success(nil)
        }
        var problem = ChatError(.forbidden, "this account may join no room")
        for name in listed where Names.isValidRoomName(name) {
            guard let error = openError(name) else { return .success(name) }
            problem = error
        }
        return .failure(problem)
    }

    var forbiddenRoom: ChatError { ChatError(.forbidden, "your account may not join that room") }

    /// An anonymous user holding `account`'s name (taken while the account was away, or before
    /// the server first saw it) gives it up for a random one: they get `renamed` and an `error`,
    /// their rooms a presence `rename`. Another account's name, or a reserved one, stays put.
    /// Not in a cluster, where names are granted by Redis: there the account gets `name_taken`.
    mutating func reclaimName(for account: Account, _ effects: inout [ChatEffect]) {
        guard cluster == nil, let name = Names.validUserName(account.name) else { return }
        let key = Names.key(name)
        guard let holder = nameOwners[key], accounts[holder] == nil, let squatter = sessions[holder],
              accountNames.owner(of: key).map({ $0 == account.id }) ?? true else { return }
        let newName = randomName()
        performRename(holder, to: newName, re: nil, &effects)
        guard let connection = squatter.connection else { return }
        sendError(ChatError(.nameTaken, "the name \(squatter.name) belongs to an account; you are now \(newName)"),
                  to: connection, re: nil, &effects)
    }
}
