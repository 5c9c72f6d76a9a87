// Server wiring: config -> reactor -> room state machine; static files; health.
