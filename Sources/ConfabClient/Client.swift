// Confab's clients: `confab chat` (terminal) and `confab load` (load generator).
