import Testing
@testable import ConfabChat
