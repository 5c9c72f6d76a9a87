import Testing
@testable import ConfabClient
