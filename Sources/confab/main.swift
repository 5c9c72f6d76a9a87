print("confab: not built yet")
