package org.communs.conformance;

import java.io.FileReader;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

import org.eclipse.dataspacetck.core.system.ConsoleMonitor;
import org.eclipse.dataspacetck.runtime.ConsoleResultWriter;
import org.eclipse.dataspacetck.runtime.TckRuntime;

/**
 * Runs the DSP TCK's verification packages with the settings of one properties file.
 *
 * <p>Usage: {@code RunDspTck CONFIG.properties [DISPLAY_NAME_REGEX]}. Exit code 0 when every
 * test that ran passed, 1 otherwise.
 */
public final class RunDspTck {
    private static final String LAUNCHER_KEY = "dataspacetck.launcher";
    private static final String DSP_LAUNCHER = "org.eclipse.dataspacetck.dsp.system.DspSystemLauncher";
    private static final String VERIFICATION = "org.eclipse.dataspacetck.dsp.verification";

    private RunDspTck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: RunDspTck CONFIG.properties [DISPLAY_NAME_REGEX]");
            System.exit(2);
        }
        var file = new Properties();
        try (var reader = new FileReader(args[0])) {
            file.load(reader);
        }
        Map<String, String> settings = new HashMap<>();
        file.forEach((key, value) -> settings.put(key.toString(), value.toString()));
        settings.putIfAbsent(LAUNCHER_KEY, DSP_LAUNCHER);

        var debug = Boolean.parseBoolean(settings.getOrDefault("dataspacetck.debug", "false"));
        var monitor = new ConsoleMonitor(debug, false);
        var builder = TckRuntime.Builder.newInstance()
                .properties(settings)
                .addPackage(VERIFICATION)
                .monitor(monitor);
        if (args.length == 2) {
            var wanted = Pattern.compile(args[1]);
            builder.displayNameMatching(name -> wanted.matcher(name).find());
        }
        var summary = builder.build().execute();
        new ConsoleResultWriter(monitor).output(summary);
        System.out.printf("TCK summary: %d tests found, %d succeeded, %d failed, %d aborted, %d skipped%n",
                summary.getTestsFoundCount(), summary.getTestsSucceededCount(), summary.getTestsFailedCount(),
                summary.getTestsAbortedCount(), summary.getTestsSkippedCount());
        System.exit(summary.getTotalFailureCount() == 0 && summary.getTestsFailedCount() == 0 ? 0 : 1);
    }
}
