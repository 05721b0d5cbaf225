package dev.bulkhead.server.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The {@code bulkhead} command line. Errors print one line and exit non-zero; {@code --verbose} adds the
 * stack trace.
 */
@Command(name = "bulkhead", mixinStandardHelpOptions = true, version = "Bulkhead 0.1.0",
        description = "LLM inference on the JVM: CPU (Vector API) backend, paged KV cache, real checkpoints.",
        subcommands = {GenerateCommand.class, ChatCommand.class, ServeCommand.class, MakeModelCommand.class,
                PullCommand.class, ModelsCommand.class, BenchCommand.class, WorkerCommand.class,
                CommandLine.HelpCommand.class})
public final class BulkheadCli {

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces and debug logs on errors.")
    boolean verbose;

    /** Where interactive commands read user input from. */
    private BufferedReader in;

    /** Whether stdin and stdout are a terminal, so that chat may take it over for line editing. */
    private boolean interactive;

    public static void main(String[] args) {
        if (java.util.Arrays.asList(args).contains("-v") || java.util.Arrays.asList(args).contains("--verbose")) {
            // NOTE: must happen before the first logger is created; slf4j-simple reads it once.
            System.setProperty("org.slf4j.simpleLogger.log.dev.bulkhead", "debug");
        }
        dev.bulkhead.server.http.Slf4jLogging.install();
        System.exit(run(args, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true), Terminals.isInteractive()));
    }

    /** Runs the CLI with the given streams and no input; returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, new BufferedReader(new StringReader("")), out, err);
    }

    /** Runs the CLI with the given streams and returns the exit code; input is read as plain lines. */
    public static int run(String[] args, BufferedReader in, PrintWriter out, PrintWriter err) {
        return run(args, in, out, err, false);
    }

    private static int run(String[] args, BufferedReader in, PrintWriter out, PrintWriter err, boolean interactive) {
        BulkheadCli root = new BulkheadCli();
        root.in = in;
        root.interactive = interactive;
        CommandLine cli = new CommandLine(root);
        cli.setOut(out);
        cli.setErr(err);
        // NOTE: a mistyped option gets one line saying what is wrong and where the help is, not the whole usage.
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            err.println("bulkhead: error: " + oneLine(ex) + " (see '" + cmd.getCommandSpec().qualifiedName()
                    + " --help')");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            boolean verbose = parseResult.expandedArgs().contains("-v") || parseResult.expandedArgs().contains("--verbose");
            err.println("bulkhead: error: " + oneLine(ex));
            if (verbose) {
                ex.printStackTrace(err);
            } else {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return 1;
        });
        return cli.execute(args);
    }

    BufferedReader in() {
        return in;
    }

    boolean interactive() {
        return interactive;
    }

    /** The message a user needs: the deepest cause that says something, on one line. */
    static String oneLine(Throwable ex) {
        Throwable t = ex;
        String msg = t.getMessage();
        while ((msg == null || msg.isBlank()) && t.getCause() != null) {
            t = t.getCause();
            msg = t.getMessage();
        }
        if (msg == null || msg.isBlank()) {
            msg = t.getClass().getSimpleName();
        }
        return msg.replace('\n', ' ');
    }
}
