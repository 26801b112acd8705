package org.ievirsh.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.ControllerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * CourseCommand is what an instructor asks of the controller about a
 * course they teach (the README's "Courses"): {@code course list COURSE},
 * over the control socket, which knows the caller from the kernel alone.
 */
@Command(name = "course", mixinStandardHelpOptions = true,
        header = "For instructors: follow a course's VMs.",
        description = {"Instructors of a course (members of its instructors group) see every student's VMs of",
                "the course and open their consoles: ie-virsh console STUDENT/VM."},
        subcommands = {CourseCommand.ListCourse.class},
        footer = {"", "Examples:", "  ie-virsh course list os2026", "  ie-virsh console alice/os2026-lab"})
final class CourseCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("ie-virsh course: name what to do: ie-virsh course list COURSE");
        return 2;
    }

    /** {@code course list COURSE}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            header = "List every student's VMs of a course you teach.",
            description = {"USER, VM, PHASE (Removed: the student removed the file; NoDirectory: the student has no",
                    "directory the controller reads, the log says why), BLADE, IP, EXPIRES."},
            footer = {"", "Example:", "  ie-virsh course list os2026", "",
                    "Exit codes: 0 listed, 1 refused (you are no instructor of it, or the controller cannot be",
                    "reached)."})
    static final class ListCourse implements Callable<Integer> {
        @Mixin
        StudentOptions options;

        @Parameters(paramLabel = "COURSE", description = "The course, as the admin named it.")
        String course;

        @Override
        public Integer call() throws StudentOptions.StudentError {
            if (!org.ievirsh.api.v1.VirtualMachine.isValidName(course)) {
                throw new StudentOptions.StudentError(Output.printable(course) + " is not a course name");
            }
            printTable(org.ievirsh.course.Classroom.COLUMNS, ask(options, "LIST " + course));
            return 0;
        }
    }

    /**
     * Prints an answer's lines (cells split at tabs) as a table under
     * {@code columns}: every cell made printable, an empty one shown as "-".
     */
    static void printTable(List<String> columns, List<String> lines) {
        List<String[]> rows = new ArrayList<>();
        rows.add(columns.toArray(new String[0]));
        for (String line : lines) {
            String[] cells = line.split("\t", -1);
            for (int i = 0; i < cells.length; i++) {
                cells[i] = cells[i].isEmpty() ? "-" : Output.printable(cells[i]);
            }
            rows.add(cells);
        }
        Output.table(rows, System.out);
    }

    /**
     * Sends {@code request} over the control socket; returns the answer's
     * lines (after {@code OK}, up to the blank line), or the refusal as a
     * student error.
     */
    static List<String> ask(StudentOptions options, String request) throws StudentOptions.StudentError {
        Path socket = options.adminConfig().map(c -> c.console().socket())
                .orElse(ControllerConfig.Console.DEFAULT_SOCKET);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.US_ASCII)));
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    Channels.newInputStream(channel), StandardCharsets.UTF_8));
            String first = in.readLine();
            if (first == null) {
                throw new StudentOptions.StudentError("the controller closed without an answer");
            }
            if (first.startsWith("ERROR ")) {
                throw new StudentOptions.StudentError(Output.printable(first.substring(6)));
            }
            if (!first.equals("OK")) {
                throw new StudentOptions.StudentError("unexpected answer: " + Output.printable(first));
            }
            List<String> lines = new ArrayList<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                lines.add(line);
            }
            return lines;
        } catch (IOException e) {
            throw new StudentOptions.StudentError("cannot reach the controller at " + socket + ": " + e.getMessage()
                    + " (is it running?)");
        }
    }
}
