import java.util.HashSet;
import java.util.Set;
import javax.management.ObjectName;

/**
 * The tests' oracle for bean order: prints the object names given as arguments in the order a
 * HashSet of them iterates, which is the order jmx_exporter's JmxScraper visits beans in (and so
 * whose attribute description becomes a merged family's HELP text).
 */
public final class HashOrder {
    public static void main(String[] args) throws Exception {
        Set<ObjectName> names = new HashSet<>();
        for (String arg : args) {
            names.add(new ObjectName(arg));
        }
        for (ObjectName name : names) {
            System.out.println(name);
        }
    }
}
