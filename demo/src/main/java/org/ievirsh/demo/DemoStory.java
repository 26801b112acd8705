package org.ievirsh.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;

/**
 * DemoStory edits the students' files the way students would, one step at a
 * time, and lets the narrator show what the controller makes of each edit.
 */
public final class DemoStory {
    private final DemoWorld world;
    private final Controller controller;
    private final Narrator narrator;
    private final PrintStream out;

    public DemoStory(DemoWorld world, Controller controller, PrintStream out) {
        this.world = world;
        this.controller = controller;
        this.narrator = new Narrator(controller.statuses(), out);
        this.out = out;
    }

    private record Step(String say, Edit edit) {
    }

    private interface Edit {
        void apply() throws IOException;
    }

    /** Runs the story; returns true when every step converged. */
    public boolean run() throws IOException, InterruptedException {
        out.println("== The students' files are read; the VMs are defined and started:");
        boolean ok = settle(Duration.ofSeconds(20));
        List<Step> steps = List.of(
                new Step("bob starts his lab VM (runStrategy: Halted -> Always), as `ie-virsh start lab` does",
                        () -> replace("bob", "lab.yaml", "runStrategy: Halted", "runStrategy: Always")),
                new Step("carol fixes her files (memory within the template, a valid runStrategy)", () -> {
                    replace("carol", "web.yaml", "memory: 64GiB", "memory: 2GiB");
                    replace("carol", "notes.yaml", "sometimes", "Always");
                }),
                new Step("alice stops her web VM (runStrategy: Halted), as `ie-virsh destroy web` does",
                        () -> replace("alice", "web.yaml", "runStrategy: Always", "runStrategy: Halted")),
                new Step("bob removes web.yaml: the VM is stopped and undefined; his image stays",
                        () -> Files.delete(world.vmDirectory("bob").resolve("web.yaml"))));
        for (Step step : steps) {
            out.println("== " + step.say() + ":");
            step.edit().apply();
            ok &= settle(Duration.ofSeconds(20));
        }
        return ok;
    }

    private void replace(String user, String file, String from, String to) throws IOException {
        Path path = world.vmDirectory(user).resolve(file);
        Files.writeString(path, Files.readString(path).replace(from, to));
    }

    /** Waits until nothing is in a transition (or the time is up), narrating as it goes. */
    private boolean settle(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        int quiet = 0;
        while (System.nanoTime() < deadline) {
            Thread.sleep(250);
            int printed = narrator.tell();
            boolean moving = controller.queueDepth() > 0 || controller.statuses().all().stream()
                    .map(VmStatus::phase).anyMatch(p -> p == Phase.Pending || p == Phase.Starting
                            || p == Phase.Stopping || p == Phase.Terminating);
            quiet = printed == 0 && !moving ? quiet + 1 : 0;
            if (quiet >= 4) {
                return true;
            }
        }
        return false;
    }
}
