import Testing
@testable import ConfabConfig
