# Sourced by the scripts in bin/: the Elasticsearch versions, as the build (pom.xml) declares them.
#   es_default_version      the version a plain `mvn` builds for
#   es_supported_versions   every version a zip is built for (bin/build-zips)
#   es_node_test_versions   those whose integ-test-zip is served, so that a real node tests them
# ELASTICSEARCH_VERSION, when set, picks the version a script works with (default: es_default_version).
_es_pom="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/pom.xml"
_es_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$_es_pom" | head -n 1; }
es_default_version="$(_es_property elasticsearch.version)"
es_supported_versions="$(_es_property supported.elasticsearch.versions)"
es_node_test_versions="$(_es_property node.test.elasticsearch.versions)"
es_version="${ELASTICSEARCH_VERSION:-$es_default_version}"
case " $es_supported_versions " in
  *" $es_version "*) ;;
  *) echo "Elasticsearch $es_version is not supported; supported: $es_supported_versions" >&2; exit 2 ;;
esac
