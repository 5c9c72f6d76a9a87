// The room state machine: events in, effects out. No sockets, clocks or randomness.
