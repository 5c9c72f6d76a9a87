import CHiredis
import CLibUV

// hiredis's libuv adapter (hiredis/adapters/libuv.h, 0.14) drives a context's socket with one
// `uv_poll_t`: `redisLibuvAttach` makes it (in a malloc'd `redisLibuvEvents`), and its cleanup
// hook closes it and frees that struct when hiredis frees the context. We keep both.
//
// What we replace are its four add/del hooks, for the poll callback they install: on a poll
// error (libuv reports EPOLLERR as UV_EBADF, stops the handle and gives no events) the
// adapter's callback returns without telling hiredis, so a refused connect never calls back
// and a reset connection hangs forever. Ours hands hiredis the events it was waiting for
// instead; hiredis then reads or writes, meets the socket's error and fails the connect or
// disconnects through its own callbacks. (hiredis 1.0 fixed its adapter the same way.)

/// Attaches `context` to `loop`; false if the socket cannot be watched (the context must
/// then be freed, as it was never attached).
func attachToLoop(_ context: UnsafeMutablePointer<redisAsyncContext>, _ loop: UnsafeMutablePointer<uv_loop_t>) -> Bool {
    guard redisLibuvAttach(context, loop) == REDIS_OK else {
        // The adapter installs its hooks before uv_poll_init fails and leaves them without
        // their data: freeing the context would call its cleanup on NULL. (Its struct leaks;
        // uv_poll_init fails only on a descriptor epoll refuses.)
        context.pointee.ev = .init()
        return false
    }
    context.pointee.ev.addRead = { watch($0, add: readable) }
    context.pointee.ev.delRead = { watch($0, remove: readable) }
    context.pointee.ev.addWrite = { watch($0, add: writable) }
    context.pointee.ev.delWrite = { watch($0, remove: writable) }
    return true
}

private let readable = Int32(UV_READABLE.rawValue)
private let writable = Int32(UV_WRITABLE.rawValue)

/// The adapter's add/del hooks, with our poll callback: hiredis's wish list of events is
/// kept in the adapter's struct, and the poll handle watches exactly that.
private func watch(_ data: UnsafeMutableRawPointer?, add: Int32 = 0, remove: Int32 = 0) {
    guard let events = data?.assumingMemoryBound(to: redisLibuvEvents.self),
          let handle = events.pointer(to: \.handle) else { return }
    events.pointee.events = (events.pointee.events | add) & ~remove
    if events.pointee.events != 0 {
        uv_poll_start(handle, events.pointee.events, pollCallback)
    } else {
        uv_poll_stop(handle)
    }
}

private func pollCallback(_ handle: UnsafeMutablePointer<uv_poll_t>?, _ status: Int32, _ ready: Int32) {
    guard let events = handle?.pointee.data?.assumingMemoryBound(to: redisLibuvEvents.self) else { return }
    // On an error there are no events to report: let hiredis try what it waits for and
    // find the error itself. `context` is cleared by the adapter's cleanup when hiredis
    // frees the context during the read; the struct lives until the handle's close callback.
    let due = status < 0 ? events.pointee.events : ready
    if due & readable != 0, let context = events.pointee.context { redisAsyncHandleRead(context) }
    if due & writable != 0, let context = events.pointee.context { redisAsyncHandleWrite(context) }
}
