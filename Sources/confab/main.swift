import ArgumentParser

Confab.main()
