import ControlPlane
import NIOCore
import NIOPosix

// Swift concurrency's jobs run on NIO's event loops (as many threads as cores, as the cooperative pool
// had): a request's tasks and its sockets' I/O then share threads, instead of hopping between the two
// pools on every await. The rule is unchanged: nothing blocking runs on these threads (see BlockingWork).
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await ControlPlaneCommand.runFromCommandLine()
