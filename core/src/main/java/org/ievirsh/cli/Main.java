package org.ievirsh.cli;

import java.util.ServiceLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * Main is the one jar's entry: {@code ie-virsh SUBCOMMAND}. Students use the
 * file commands; admins run {@code controller}; newcomers run {@code demo}.
 * The demo and the benchmarks live in their own modules, which this one
 * cannot see: the jar finds them as {@link AddedCommand}s.
 */
@Command(name = "ie-virsh", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Virtual machines for students, declared in files: one YAML file per VM in ~/ie-virsh.",
                "A controller makes them real on the department's blades and writes their status back."},
        subcommands = {ListCommand.class, DefineCommand.class, UndefineCommand.class, StartCommand.class, ImportBoxCommand.class,
                DestroyCommand.class, DumpxmlCommand.class, StatusCommand.class, SshCommand.class, ConsoleCommand.class,
                ValidateCommand.class,
                SchemaCommand.class, TemplatesCommand.class, BasesCommand.class, ResetCommand.class,
                SnapshotCommand.class, SnapshotsCommand.class, RevertCommand.class,
                CoursesCommand.class, CourseCommand.class, ControllerCommand.class, ClassArchiveCommand.class},
        footer = {"", "Students: list, define, undefine, start, destroy, dumpxml, status, validate, templates (your files",
                "in ~/ie-virsh; nothing here talks to libvirt), ssh and console (reach a running VM),",
                "import-box (a Vagrant box into your image directory), bases and reset (VMs from the admin's images),",
                "snapshot, snapshots and revert (try a dangerous lab, then go back).",
                "Courses: courses (yours), course list COURSE and console STUDENT/VM (instructors).",
                "Admins: controller, bench. Newcomers: demo.",
                "ie-virsh help COMMAND (or COMMAND --help) tells more of each.",
                "", "Exit codes: 0 success, 1 failure (the message says why), 2 wrong usage,",
                "3 --wait timed out."})
public final class Main {

    /** Version is the jar's: the version the build stamped in its manifest (the package's upstream version). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"ie-virsh " + (version == null ? "(a development build, not from the jar)" : version)};
        }
    }

    public static void main(String[] args) {
        if (java.util.Arrays.asList(args).contains("controller")) {
            org.ievirsh.controller.EarlyHangup.install();  // before anything slow: a reload must not end a start
        }
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine line = commandLine();
        line.setCaseInsensitiveEnumValuesAllowed(true);
        line.setUsageHelpWidth(100);
        line.setExecutionExceptionHandler(Main::failed);
        line.setParameterExceptionHandler(Main::misused);
        // Everything after the VM's name is ssh's: its options are not ours.
        line.getSubcommands().get("ssh").setStopAtPositional(true);
        return line.execute(args);
    }

    /** Every command: this module's, then those the jar adds (the demo, the benchmarks), then help. */
    public static CommandLine commandLine() {
        CommandLine line = new CommandLine(new Main());
        for (AddedCommand added : ServiceLoader.load(AddedCommand.class, Main.class.getClassLoader())) {
            line.addSubcommand(added);
        }
        return line.addSubcommand(new CommandLine.HelpCommand());
    }

    /** Wrong usage: what is wrong, picocli's suggestions, the command's synopsis; exit 2. */
    private static int misused(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        java.io.PrintWriter err = command.getErr();
        err.println("ie-virsh: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.print("Usage: " + command.getHelp().synopsis(0));
        err.println("(" + command.getCommandSpec().qualifiedName() + " --help tells more)");
        return 2;
    }

    /**
     * What every command does with a failure it did not handle itself: one
     * line that says what went wrong, exit 1; never a stack trace (set
     * IE_VIRSH_DEBUG=1 to see one).
     */
    private static int failed(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        if (System.getenv("IE_VIRSH_DEBUG") != null) {
            e.printStackTrace();
        }
        String message = e instanceof StudentOptions.StudentError || e instanceof java.io.IOException
                || e instanceof java.io.UncheckedIOException ? e.getMessage()
                : "unexpected error: " + e + " (IE_VIRSH_DEBUG=1 shows where)";
        if (e instanceof java.nio.file.AccessDeniedException denied) {
            message = "permission denied: " + denied.getFile();
        } else if (e instanceof java.nio.file.NoSuchFileException missing) {
            message = "no such file: " + missing.getFile();
        }
        command.getErr().println("ie-virsh: " + message);
        return 1;
    }
}
