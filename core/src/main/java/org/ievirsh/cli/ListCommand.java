package org.ievirsh.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.VmStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** ListCommand shows the student's VMs as the controller last reported them. */
@Command(name = "list", mixinStandardHelpOptions = true,
        header = "List your VMs with their phase, blade, address and what is going on.",
        description = {"List your VMs: a header with your uid, gid and name, then NAME, PHASE, BLADE, IP,",
                "TEMPLATE, EXPIRES and MESSAGE. The message leads with what needs you: a restart the VM waits",
                "for, its end coming, how long a stop has taken. A file without a status yet shows Pending;",
                "a status without a file shows Terminating."},
        footer = {"", "Examples:", "  ie-virsh list", "  ie-virsh list --output json | jq '.[].phase'",
                "", "Exit codes: 0 listed, 1 the directory cannot be read."})
final class ListCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "table (default), yaml or json.")
    String output = "table";

    @Override
    public Integer call() throws IOException, JsonProcessingException, StudentOptions.StudentError {
        Path dir = options.existingDirectory();
        Map<String, Optional<VmStatus>> vms = StatusReader.all(dir);
        Map<String, String> badNames = StatusReader.badNames(dir);
        if (!output.equals("table")) {
            List<Object> all = new ArrayList<>();
            vms.forEach((name, status) -> all.add(status.isPresent() ? status.get()
                    : Map.of("name", name, "phase", StatusReader.hasFile(dir, name) ? "Pending" : "Terminating")));
            badNames.forEach((file, why) -> all.add(Map.of("file", file, "phase", "Invalid", "message", why)));
            return Output.print(all, output);
        }
        var self = StudentOptions.self();
        System.out.println("uid " + self.getUid() + " gid " + self.getGid() + " name " + self.getUsername());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "PHASE", "BLADE", "IP", "TEMPLATE", "EXPIRES", "MESSAGE"});
        vms.forEach((name, status) -> {
            boolean file = StatusReader.hasFile(dir, name);
            if (status.isEmpty()) {
                rows.add(new String[] {name, file ? "Pending" : "Terminating", "-", "-", "-", "-",
                        file ? "the controller has not reported on it yet" : ""});
                return;
            }
            VmStatus s = status.get();
            String phase = file ? s.phase().name() : "Terminating";
            rows.add(new String[] {name, phase, or(s.blade()), or(s.ip()), or(s.template()), or(s.expires()),
                    or(message(s, java.time.Instant.now()))});
        });
        badNames.forEach((file, why) -> rows.add(new String[] {file, "Invalid", "-", "-", "-", "-", why}));
        Output.table(rows, System.out);
        return 0;
    }

    /**
     * The status' message, led by what the conditions say that needs the
     * student: a change that waits for the next boot, the VM's end coming,
     * and for a VM stopping, for how long it has been.
     */
    static String message(VmStatus s, java.time.Instant now) {
        List<String> parts = new ArrayList<>();
        org.ievirsh.api.v1.Condition restart = s.condition(org.ievirsh.api.v1.Condition.RESTART_REQUIRED);
        if (restart != null && "True".equals(restart.status())) {
            parts.add("restart required" + (restart.message() == null || restart.message().isEmpty() ? ""
                    : " (" + restart.message() + ")"));
        }
        org.ievirsh.api.v1.Condition expiring = s.condition(org.ievirsh.api.v1.Condition.EXPIRING);
        if (expiring != null && "True".equals(expiring.status()) && s.phase() != org.ievirsh.api.v1.Phase.Expired) {
            parts.add(expiring.message());
        }
        String message = s.message() == null ? "" : s.message();
        org.ievirsh.api.v1.Condition ready = s.condition(org.ievirsh.api.v1.Condition.READY);
        if (s.phase() == org.ievirsh.api.v1.Phase.Stopping && ready != null && ready.lastTransitionTime() != null) {
            try {
                long seconds = java.time.Duration.between(java.time.Instant.parse(ready.lastTransitionTime()), now)
                        .toSeconds();
                message = "stopping for " + Math.max(0, seconds) + " s: " + message;
            } catch (java.time.format.DateTimeParseException e) {
                // no time to tell
            }
        }
        if (!message.isEmpty()) {
            parts.add(message);
        }
        return String.join("; ", parts);
    }

    private static String or(String value) {
        return value == null || value.isEmpty() ? "-" : value;
    }
}
