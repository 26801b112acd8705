package org.ievirsh.controller;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;

/**
 * BladeProbe is what {@code ie-virsh validate} learns of a config's blades
 * by asking them, as warnings (the controller itself connects in the
 * background and retries; the admin wants to know before): a blade that
 * cannot be reached from here, one whose {@code reserved} leaves no room on
 * what it has, and a lock manager this host cannot confirm.
 */
public final class BladeProbe {
    /** How long one blade may take to answer. */
    static final long ANSWER_SECONDS = 5;

    private BladeProbe() {
    }

    /** CPUs and memory (bytes) a blade reports. */
    record Node(int cpus, long memoryBytes) {
    }

    /** Warnings about {@code config}'s blades (read from {@code file}), asking each one. */
    public static List<Problem> warnings(String file, ControllerConfig config) {
        List<Problem> warnings = new ArrayList<>();
        for (ControllerConfig.Blade blade : config.blades()) {
            String field = "blades." + blade.name();
            CompletableFuture<Node> asked = CompletableFuture.supplyAsync(() -> node(blade.uri()));
            Node node;
            try {
                node = asked.get(ANSWER_SECONDS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                warnings.add(at(file, field, blade.uri() + " did not answer within " + ANSWER_SECONDS + " s; the"
                        + " controller keeps trying, and shows its VMs Unknown until it answers"));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return warnings;
            } catch (java.util.concurrent.ExecutionException e) {
                warnings.add(at(file, field, "cannot be reached from here: " + e.getCause().getMessage()));
                continue;
            }
            warnings.addAll(room(file, blade, node));
        }
        warnings.addAll(lockManager(file, config));
        return warnings;
    }

    /** What {@code reserved} leaves of what the blade has (its capacity, else what it reports). */
    static List<Problem> room(String file, ControllerConfig.Blade blade, Node node) {
        List<Problem> warnings = new ArrayList<>();
        String field = "blades." + blade.name() + ".reserved";
        int cpus = blade.capacity().vcpus().orElse(node.cpus());
        long memory = blade.capacity().memoryBytes().orElse(node.memoryBytes());
        if (blade.reserved().vcpus() >= cpus) {
            warnings.add(at(file, field, "keeps " + blade.reserved().vcpus() + " vCPUs of the " + cpus + " this blade"
                    + " has: no VM can be placed there"));
        }
        if (blade.reserved().memoryBytes() >= memory) {
            warnings.add(at(file, field, "keeps " + org.ievirsh.api.v1.Quantities.format(blade.reserved().memoryBytes())
                    + " of the " + org.ievirsh.api.v1.Quantities.format(memory) + " this blade has: no VM can be"
                    + " placed there"));
        }
        return warnings;
    }

    private static Node node(String uri) {
        try {
            org.libvirt.Connect connect = new org.libvirt.Connect(uri, true);
            try {
                org.libvirt.NodeInfo info = connect.nodeInfo();
                return new Node(info.cpus, info.memory * 1024);
            } finally {
                connect.close();
            }
        } catch (org.libvirt.LibvirtException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * The lock manager, where this host can tell: for a blade on this host,
     * libvirt's qemu.conf must name it. Remote blades' files are theirs.
     */
    static List<Problem> lockManager(String file, ControllerConfig config) {
        List<Problem> warnings = new ArrayList<>();
        if (config.lockManager().equals("none")) {
            return warnings;
        }
        boolean local = config.blades().stream().anyMatch(b -> b.uri().matches("qemu(\\+unix)?:///system.*"));
        if (local) {
            String qemuConf;
            try {
                qemuConf = Files.readString(Path.of("/etc/libvirt/qemu.conf"));
            } catch (java.io.IOException e) {
                qemuConf = "";
            }
            if (!qemuConf.matches("(?s).*(^|\\n)\\s*lock_manager\\s*=\\s*\"" + config.lockManager() + "\".*")) {
                warnings.add(at(file, "lockManager", config.lockManager() + ": /etc/libvirt/qemu.conf on this host does"
                        + " not say lock_manager = \"" + config.lockManager() + "\"; without it nothing keeps a disk"
                        + " from being opened on two blades (see examples/libvirt/)"));
            }
        }
        if (config.blades().stream().anyMatch(b -> !b.uri().matches("qemu(\\+unix)?:///system.*"))) {
            warnings.add(at(file, "lockManager", config.lockManager() + " cannot be confirmed from here for the"
                    + " remote blades: check lock_manager in each blade's /etc/libvirt/qemu.conf"));
        }
        return warnings;
    }

    private static Problem at(String file, String field, String message) {
        return new Problem(file, 0, 0, field, message);
    }
}
