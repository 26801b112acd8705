package org.ievirsh.cli;

import java.util.concurrent.Callable;

/**
 * AddedCommand is a subcommand from a module this one cannot see (the demo,
 * the benchmarks): a picocli command with a public no-argument constructor,
 * named in its module's {@code META-INF/services/org.ievirsh.cli.AddedCommand}.
 * The one jar holds them all, so {@code ie-virsh demo} and {@code ie-virsh
 * bench} work as before, while the controller's code never names them.
 */
public interface AddedCommand extends Callable<Integer> {
}
