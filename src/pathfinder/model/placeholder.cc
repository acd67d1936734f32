// Placeholder translation unit so pf_model is a library before the model module lands.
namespace pf::model {}
