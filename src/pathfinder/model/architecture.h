// Placeholder until the model module lands (see issue 2).
#pragma once
