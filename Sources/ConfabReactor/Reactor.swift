// The reactor: the only code that calls libuv.
