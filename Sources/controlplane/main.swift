import ControlPlane

await ControlPlaneCommand.runFromCommandLine()
